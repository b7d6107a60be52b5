-- The posting port (docs/decisions/0014): a journal transaction made by a document records
-- its source, and its lines the counterparty and the document they belong to, so that a
-- receivables or payables sub-ledger is a sum over journal lines and always equals its
-- control account. Exchange-difference lines are marked by their kind.
ALTER TABLE journal_transactions
    ADD COLUMN source_type text,
    ADD COLUMN source_id uuid;

ALTER TABLE journal_lines
    ADD COLUMN counterparty_id uuid,
    ADD COLUMN document_id uuid,
    ADD COLUMN line_kind text NOT NULL DEFAULT 'regular';

CREATE INDEX journal_transactions_source
    ON journal_transactions (company_id, source_type, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX journal_lines_counterparty
    ON journal_lines (company_id, counterparty_id, entry_date) WHERE counterparty_id IS NOT NULL;
CREATE INDEX journal_lines_document
    ON journal_lines (company_id, document_id) WHERE document_id IS NOT NULL;
