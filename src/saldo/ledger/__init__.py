"""The general ledger: chart of accounts, journal transactions, fiscal periods, balances."""
