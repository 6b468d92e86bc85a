-- Accounts: a role, a scope (sites, tenants), an Argon2id password hash, and what
-- sign-in throttling needs.
CREATE TABLE users (
    name TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    password_hash TEXT,
    created_us BIGINT NOT NULL,
    disabled_us BIGINT,
    failed_signins BIGINT NOT NULL DEFAULT 0,
    locked_until_us BIGINT,
    lang TEXT
);

-- Tokens act for an account, with at most its role and scope, until they expire.
ALTER TABLE api_tokens ADD COLUMN user_name TEXT;
ALTER TABLE api_tokens ADD COLUMN role TEXT;
ALTER TABLE api_tokens ADD COLUMN scope TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_us BIGINT;
