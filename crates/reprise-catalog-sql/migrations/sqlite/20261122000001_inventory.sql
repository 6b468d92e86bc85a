-- The last known form of each asset, to detect changes between loads.
CREATE TABLE assets (
    id TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    first_seen_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
);

-- Every change of every asset, append-only.
CREATE TABLE asset_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT
);

CREATE INDEX asset_changes_by_asset ON asset_changes (asset_id, at_us, seq);
