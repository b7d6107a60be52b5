-- Identity: users, companies (tenants), memberships and refresh-token families
-- (ARCHITECTURE §5, docs/decisions/0010-identity-and-tenant-isolation.md).
--
-- These tables hold the current state that authentication reads on every request; the
-- changes are also recorded as events (the audit trail) in the same transaction.

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    username       text NOT NULL,
    full_name      text NOT NULL DEFAULT '',
    password_hash  text NOT NULL,
    is_superuser   boolean NOT NULL DEFAULT false,
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);
-- Usernames are unique whatever their case: "Nino" and "nino" are one person.
CREATE UNIQUE INDEX users_username ON users (lower(username));

-- A company whose books Saldo keeps: the tenant. The tax id is deliberately NOT unique:
-- two firms may each keep books for the same taxpayer, and a uniqueness error would
-- tell one firm that the other has that client.
CREATE TABLE companies (
    id                       uuid PRIMARY KEY,
    name                     text NOT NULL,
    tax_id                   text NOT NULL CHECK (tax_id ~ '^([0-9]{9}|[0-9]{11})$'),
    vat_payer                boolean NOT NULL,
    base_currency            char(3) NOT NULL DEFAULT 'GEL',
    chart_of_accounts        text NOT NULL DEFAULT 'ge-standard',
    fiscal_year_start_month  smallint NOT NULL DEFAULT 1
                             CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
    created_by               uuid NOT NULL REFERENCES users (id),
    created_at               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    company_id  uuid NOT NULL REFERENCES companies (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    role        text NOT NULL CHECK (role IN
                ('accountant', 'chief_accountant', 'tax_specialist', 'auditor', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- One family per login; every refresh rotates to a new token of the same family.
-- Presenting a token that was already rotated means two parties hold the family's
-- tokens (one of them a thief): the whole family is revoked, including its access
-- tokens, which carry the family id.
CREATE TABLE token_families (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    revoked_because text
);
CREATE INDEX token_families_user ON token_families (user_id);

CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,         -- SHA-256 of the token; the token is never stored
    family_id   uuid NOT NULL REFERENCES token_families (id),
    parent_id   uuid REFERENCES refresh_tokens (id),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
