-- A payment reversed (docs/decisions/0030): the day and the reversal's journal transaction.
ALTER TABLE billing_payments ADD COLUMN reversed_on date;
ALTER TABLE billing_payments ADD COLUMN reversal_transaction_id uuid;
