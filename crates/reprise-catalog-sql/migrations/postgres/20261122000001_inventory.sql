-- The last known form of each asset, to detect changes between loads.
CREATE TABLE assets (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    first_seen_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL
);

-- Every change of every asset, append-only.
CREATE TABLE asset_changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_id TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT
);

CREATE INDEX asset_changes_by_asset ON asset_changes (asset_id, at_us, seq);
