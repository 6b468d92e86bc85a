-- When each secret (a repository key, a credential) was last rotated.
CREATE TABLE rotations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    secret TEXT NOT NULL,
    at_us INTEGER NOT NULL
);
CREATE INDEX rotations_by_secret ON rotations (secret, at_us);
