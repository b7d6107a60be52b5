-- One word per thing (issue 10 item 7, decision 0017): a line's `debit` and `credit` are
-- in the transaction's currency, `debit_base` and `credit_base` in GEL, the base
-- currency. The read models said `debit` for GEL, and `amount_debit` for the currency;
-- now they say `debit_base` for GEL too, and no column called plain `debit` is left to be
-- read for the wrong amount. `amount_debit`/`amount_credit` keep their names.
-- Renaming is a catalogue change: no row is rewritten; a partitioned table's partitions
-- follow their parent.
ALTER TABLE journal_lines RENAME COLUMN debit TO debit_base;
ALTER TABLE journal_lines RENAME COLUMN credit TO credit_base;
ALTER TABLE account_turnover RENAME COLUMN debit TO debit_base;
ALTER TABLE account_turnover RENAME COLUMN credit TO credit_base;
ALTER TABLE account_currency_turnover RENAME COLUMN debit TO debit_base;
ALTER TABLE account_currency_turnover RENAME COLUMN credit TO credit_base;
