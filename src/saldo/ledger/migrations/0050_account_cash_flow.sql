-- Each account's activity in the statement of cash flows (IAS 7; issue 12 item 5,
-- docs/reporting.md): the chart CSV's `cash_flow` column, settable per account.
-- Accounts loaded before this column existed get the ge-standard activity by code prefix,
-- the longest prefix deciding (the same rules as saldo.ledger.domain.standard_cash_flow,
-- which a projection rebuild applies to their events).
ALTER TABLE accounts ADD COLUMN cash_flow text NOT NULL DEFAULT 'operating'
    CHECK (cash_flow IN ('cash', 'operating', 'interest', 'profit_tax', 'investing',
                         'financing', 'fx_effect'));

UPDATE accounts SET cash_flow = CASE
    WHEN left(code, 4) IN ('1450', '1810', '8120', '8130', '8250') THEN 'investing'
    WHEN left(code, 4) IN ('1460', '3420') THEN 'financing'
    WHEN left(code, 4) IN ('1820', '3410', '8110', '8210') THEN 'interest'
    WHEN left(code, 4) IN ('2310', '2340', '4210') THEN 'operating'
    WHEN left(code, 4) = '3310' THEN 'profit_tax'
    WHEN left(code, 4) IN ('8145', '8245') THEN 'fx_effect'
    WHEN left(code, 2) IN ('11', '12') THEN 'cash'
    WHEN left(code, 2) = '13' THEN 'investing'
    WHEN left(code, 2) = '32' THEN 'financing'
    WHEN left(code, 2) IN ('43', '44') THEN 'operating'
    WHEN left(code, 2) = '92' THEN 'profit_tax'
    WHEN left(code, 1) = '2' THEN 'investing'
    WHEN left(code, 1) IN ('4', '5') THEN 'financing'
    ELSE 'operating'
END;
