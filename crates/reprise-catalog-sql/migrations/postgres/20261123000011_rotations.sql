-- When each secret (a repository key, a credential) was last rotated.
CREATE TABLE rotations (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret TEXT NOT NULL,
    at_us BIGINT NOT NULL
);
CREATE INDEX rotations_by_secret ON rotations (secret, at_us);
