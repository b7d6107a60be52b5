-- The VAT return's findings look for drafts dated in the month: an index of drafts only,
-- so a month of 100,000 posted invoices is not scanned for them.
CREATE INDEX billing_documents_drafts ON billing_documents (company_id, date)
    WHERE transaction_id IS NULL;
