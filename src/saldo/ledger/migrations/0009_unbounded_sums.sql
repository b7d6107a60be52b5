-- Sums are unbounded: a line is capped (below 10^15, domain.MAX_AMOUNT), but the turnover
-- of an account on a day, and a transaction's total, add many lines, and numeric(20, 2)
-- overflowed (a 500) on books that big. Amounts stay exact; only the cap on sums goes.
ALTER TABLE account_turnover ALTER COLUMN debit TYPE numeric, ALTER COLUMN credit TYPE numeric;
ALTER TABLE journal_transactions ALTER COLUMN total TYPE numeric;
