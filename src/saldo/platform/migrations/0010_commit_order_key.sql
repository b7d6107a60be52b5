-- The commit order is the primary key of `events`.
--
-- Every reader that follows all events scans (transaction_id, position) (decision 0003),
-- and the replay under a table lock does too; nothing looks an event up by position
-- alone. Keeping both an index on (position) and one on (transaction_id, position) made
-- every append pay two index insertions for one order. `position` stays unique: it comes
-- from an identity column that cannot be written.
--
-- The company index (company_id, position) served one identity audit query but was
-- written by every event that names a company, i.e. every ledger event; identity keeps
-- narrow indexes of its own for its audit (0011). See docs/decisions/0013.
ALTER TABLE events DROP CONSTRAINT events_pkey;
DROP INDEX events_commit_order;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (transaction_id, position);
DROP INDEX events_company;
