"""Bank accounts, statement import and reconciliation (issue 16)."""
