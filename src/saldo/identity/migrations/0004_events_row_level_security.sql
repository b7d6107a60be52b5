-- Row-level security on the event store (docs/decisions/0010).
--
-- The application role sees and appends only the events of the company its transaction
-- set (`saldo.company_id`), plus company-less events (a user's own identity events, failed
-- logins for unknown names): those must stay visible so the event store's append guard,
-- which reads max(version) of the stream, works for streams that belong to no company.
-- Reading across companies (the Saldo-wide identity audit, projection workers) goes
-- through the privileged pool, which these policies do not restrict.

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_read ON events FOR SELECT TO saldo_app
    USING (company_id IS NULL OR company_id = saldo_company());
CREATE POLICY events_append ON events FOR INSERT TO saldo_app
    WITH CHECK (company_id IS NULL OR company_id = saldo_company());

-- FORCE applies the policies to the table's owner too. A superuser bypasses them anyway;
-- a non-superuser owning login (the privileged pool of a managed server) is the machinery
-- that must read every company's events, so it gets a policy of its own.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('CREATE POLICY events_owner ON events TO %I USING (true) WITH CHECK (true)',
                       current_user);
    END IF;
END $$;

-- Snapshots carry no company and no API reads them: the application role keeps out.
REVOKE ALL ON snapshots FROM saldo_app;
