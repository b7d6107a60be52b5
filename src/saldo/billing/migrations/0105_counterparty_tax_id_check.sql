-- A counterparty's tax id checked against rs.ge when it was created (decision 0063):
-- verified, pending (rs.ge could not be asked), failed (the service user was refused) or
-- not_registered (a personal number rs.ge does not list); NULL when nothing was checked.
ALTER TABLE counterparties ADD COLUMN tax_id_check text;
ALTER TABLE counterparties ADD COLUMN tax_id_check_detail text;
ALTER TABLE counterparties ADD COLUMN tax_id_checked_at timestamptz;
CREATE INDEX counterparties_tax_id_pending ON counterparties (company_id)
    WHERE tax_id_check = 'pending';
