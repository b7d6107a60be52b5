"""Payroll, withholding and the profit tax on distributed profit (issue 14)."""
