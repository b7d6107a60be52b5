-- The web application's approvals inbox and dashboard list the drafts and the approved
-- transactions waiting to be posted, newest first (docs/web.md). Without this index the
-- ledger's "status = 'draft' ORDER BY date DESC" walks the date index past every posted
-- transaction of the company: 190 ms p50 at 100,000 lines (bench/web.py), growing with the
-- books. With it, the few waiting transactions are read directly. The ledger's own
-- GET .../transactions?status= uses it too.
CREATE INDEX journal_transactions_by_status
    ON journal_transactions (company_id, status, date DESC, id DESC);
