-- An entry may seal a record users rely on (an incident, a request, an approval, an
-- erasure, an account, a token, a snapshot's provenance): `record` names it
-- (`incident:3`), `digest` is the SHA-256 of its content as stored right after the change.
-- The entry's hash covers both, so an edit of the record in the catalog no longer matches
-- the newest digest the journal holds for it.
ALTER TABLE journal ADD COLUMN record TEXT NOT NULL DEFAULT '';
ALTER TABLE journal ADD COLUMN digest TEXT NOT NULL DEFAULT '';
