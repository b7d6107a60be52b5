"""Billing: counterparties, sales invoices, purchase bills, payments and the sub-ledgers."""
