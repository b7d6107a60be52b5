-- The identity audit reads identity events newest first, Saldo-wide or for one company.
-- Partial indexes cover only those streams: the ledger's events, by far the most, are
-- not written to them. The audit queries repeat the predicates word for word so that the
-- planner can prove the index applies whatever the parameters are.
CREATE INDEX events_identity_audit ON events (position) WHERE stream_type LIKE 'identity.%';
CREATE INDEX events_company_audit ON events (company_id, position)
    WHERE stream_type = 'identity.company';
