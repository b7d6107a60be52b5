"""Identity: users, companies (tenants), memberships, roles, tokens (ARCHITECTURE §5)."""
