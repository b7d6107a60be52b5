-- The application role and row-level security (docs/decisions/0010).
--
-- Migrations run as the owning (often superuser) login. The API does not: its pool runs
-- `SET ROLE saldo_app` on every connection, and saldo_app is neither superuser nor the
-- owner of any table, so the policies below apply to every query it runs -- one that
-- forgets `WHERE company_id = ...` still sees only the company the transaction set with
-- `set_config('saldo.company_id', ..., true)`.

-- Roles belong to the cluster, not the database: several databases (and concurrent test
-- runs) may race to create it, hence both exception names.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'saldo_app') THEN
        CREATE ROLE saldo_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

-- A non-superuser migrating login must be a member to `SET ROLE saldo_app`.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'saldo_app', 'MEMBER') THEN
        EXECUTE format('GRANT saldo_app TO %I', current_user);
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO saldo_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO saldo_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO saldo_app;
-- Tables later migrations create (as this same login) get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO saldo_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO saldo_app;

-- The log is append-only for the application (the trigger refuses rewrites anyway);
-- migrations' bookkeeping and the projection workers' tables are not the API's to write.
REVOKE UPDATE, DELETE ON events FROM saldo_app;
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM saldo_app;
REVOKE INSERT, UPDATE, DELETE ON projection_checkpoints, event_type_counts FROM saldo_app;

-- The company and the user the current transaction acts for (NULL when unset).
CREATE FUNCTION saldo_company() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT nullif(current_setting('saldo.company_id', true), '')::uuid $$;
CREATE FUNCTION saldo_user() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT nullif(current_setting('saldo.user_id', true), '')::uuid $$;

-- Memberships: a company's rows when that company is set; a user's own rows when the
-- user is set (`GET /me` lists them across companies). Writes only for the set company.
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_read ON memberships FOR SELECT
    USING (company_id = saldo_company() OR user_id = saldo_user());
CREATE POLICY memberships_write ON memberships FOR ALL
    USING (company_id = saldo_company()) WITH CHECK (company_id = saldo_company());

-- Companies: the set company, or those the set user belongs to.
ALTER TABLE companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE companies FORCE ROW LEVEL SECURITY;
CREATE POLICY companies_read ON companies FOR SELECT
    USING (id = saldo_company()
           OR EXISTS (SELECT 1 FROM memberships m
                       WHERE m.company_id = companies.id AND m.user_id = saldo_user()));
CREATE POLICY companies_write ON companies FOR ALL
    USING (id = saldo_company()) WITH CHECK (id = saldo_company());
