-- API tokens: only their SHA-256 is kept; the token itself is shown once.
CREATE TABLE api_tokens (
    hash TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_us BIGINT NOT NULL,
    revoked_us BIGINT
);
