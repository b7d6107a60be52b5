"""Financial reporting: trial balance, general ledger, IFRS statements, exports."""
