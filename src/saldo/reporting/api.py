"""Reporting's HTTP edge (being built)."""

from __future__ import annotations

from fastapi import APIRouter


def router() -> APIRouter:
    return APIRouter(prefix="/api/v1/companies/{company_id}", tags=["reporting"])
