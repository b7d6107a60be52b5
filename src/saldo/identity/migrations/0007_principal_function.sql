-- The principal behind an access token in one statement: the user, whether the token's
-- family is alive and, for a company, the user's role there. Every authenticated request
-- asks this, so it runs as a single statement in its own implicit transaction (one round
-- trip, no BEGIN/COMMIT). It names the company for row-level security itself; the setting
-- is transaction-local, so it ends with the statement. SECURITY INVOKER: the application
-- role's policies apply exactly as they did to the query this replaces.
CREATE FUNCTION saldo_principal(p_user uuid, p_family uuid, p_company uuid)
RETURNS TABLE (id uuid, username text, full_name text, is_superuser boolean,
               is_active boolean, family_alive boolean, role text)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('saldo.company_id', coalesce(p_company::text, ''), true);
    RETURN QUERY
    SELECT u.id, u.username, u.full_name, u.is_superuser, u.is_active,
           EXISTS (SELECT 1 FROM token_families f
                    WHERE f.id = p_family AND f.user_id = u.id AND f.revoked_at IS NULL),
           (SELECT m.role::text FROM memberships m
             WHERE m.company_id = p_company AND m.user_id = u.id)
      FROM users u
     WHERE u.id = p_user;
END $$;
