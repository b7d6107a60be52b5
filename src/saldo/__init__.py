"""Saldo (სალდო) — an IFRS accounting platform for Georgian companies."""

__version__ = "0.1.0"
