-- Adding a member by a username that has no user yet records an invitation instead of
-- answering "no such user" (which let any company administrator, that is any user, probe
-- which usernames exist: issue 11, docs/security.md). The invitation becomes a membership
-- when a user of that name is created.
CREATE TABLE member_invitations (
    company_id   uuid NOT NULL REFERENCES companies (id),
    username     text NOT NULL,
    role         text NOT NULL CHECK (role IN
                 ('accountant', 'chief_accountant', 'tax_specialist', 'auditor', 'admin')),
    invited_by   uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, username)
);
CREATE INDEX member_invitations_username ON member_invitations (lower(username));

-- A company's invitations when that company is set; while a user is being created, the
-- invitations of that username (`saldo.invitee`), so they can be accepted.
ALTER TABLE member_invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE member_invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY member_invitations_company ON member_invitations FOR ALL
    USING (company_id = saldo_company()) WITH CHECK (company_id = saldo_company());
CREATE POLICY member_invitations_invitee ON member_invitations FOR SELECT
    USING (lower(username) = lower(nullif(current_setting('saldo.invitee', true), '')));
GRANT SELECT, INSERT, UPDATE, DELETE ON member_invitations TO saldo_app;
