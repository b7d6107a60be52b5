-- Snapshots become company data (docs/decisions/0067).
--
-- The chart of accounts is loaded from its newest snapshot plus the events after it, in
-- the use case's unit of work, which runs as the application role. Until now the role had
-- no privilege on `snapshots` at all (0004: they carried no company and nothing read
-- them). A snapshot holds what its stream's events hold, so it is scoped the way
-- `events` is: a `company_id`, row-level security on `saldo.company_id`, and an
-- allow-all policy for a non-superuser owning login (the machinery).
--
-- Unlike events, a company-less snapshot is not visible to the application role: no
-- company-less stream is loaded from a snapshot, and the role has no reason to see one.
-- The key stays `stream_id`: a stream's id names its aggregate (the chart's names its
-- company), as `events_stream_version` does (docs/scaling.md).

ALTER TABLE snapshots ADD COLUMN company_id uuid;

ALTER TABLE snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE snapshots FORCE ROW LEVEL SECURITY;
CREATE POLICY snapshots_company ON snapshots TO saldo_app
    USING (company_id = saldo_company()) WITH CHECK (company_id = saldo_company());

DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('CREATE POLICY snapshots_owner ON snapshots TO %I'
                       ' USING (true) WITH CHECK (true)', current_user);
    END IF;
END $$;

-- Read, and write the newest (an upsert: INSERT … ON CONFLICT DO UPDATE). Nothing in the
-- application deletes a snapshot.
GRANT SELECT, INSERT, UPDATE ON snapshots TO saldo_app;
