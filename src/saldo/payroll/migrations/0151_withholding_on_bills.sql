-- Withholding on a purchase bill (issue 14 item 6, once billing landed): the bill it was
-- withheld from, one withholding per bill.
ALTER TABLE payroll_withholdings ADD COLUMN document_id uuid;
CREATE UNIQUE INDEX payroll_withholdings_document
    ON payroll_withholdings (company_id, document_id) WHERE document_id IS NOT NULL;
