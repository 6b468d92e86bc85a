-- Leases: which server holds a job, until when. Two servers sharing one catalog never run
-- the same job twice.
CREATE TABLE leases (
    key TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_us INTEGER NOT NULL
);
