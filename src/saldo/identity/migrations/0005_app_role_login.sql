-- The API connects AS saldo_app instead of `SET ROLE saldo_app` from the privileged login
-- (docs/decisions/0010): a session that logged in as saldo_app cannot `RESET ROLE` or
-- `SET ROLE` its way back to a role that escapes row-level security.
--
-- Idempotent (a cluster role may have been altered by another database's migration
-- already). A migrating login that may not alter roles leaves it to the operator, who
-- creates the login (with a password) and sets SALDO_APP_DATABASE_URL.
DO $$
BEGIN
    IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'saldo_app') THEN
        ALTER ROLE saldo_app LOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'cannot ALTER ROLE saldo_app LOGIN as %: grant it LOGIN (and a password) '
                  'yourself and set SALDO_APP_DATABASE_URL', current_user;
END $$;
