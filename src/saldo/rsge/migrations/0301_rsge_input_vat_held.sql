-- Input VAT of a matched supplier's invoice that the company has not yet confirmed on
-- rs.ge waits on 3344 "Input VAT awaiting confirmation" (issue 15 item 3): how much the
-- sync moved there from 3340, and the journal transaction that moved it.
ALTER TABLE rs_incoming
    ADD COLUMN vat_held        numeric(20, 2) NOT NULL DEFAULT 0,
    ADD COLUMN vat_transaction uuid;
