-- Every operation Reprise runs (backup, restore, verification, retention, copy).
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    asset_id TEXT,
    dataset TEXT,
    repo_id TEXT,
    started_us INTEGER NOT NULL,
    finished_us INTEGER,
    status TEXT NOT NULL,
    snapshot_id TEXT,
    files INTEGER,
    bytes_read INTEGER,
    bytes_added INTEGER,
    error TEXT,
    detail TEXT
);
CREATE INDEX runs_by_asset ON runs (asset_id, started_us);

-- Restore points as last seen in each repository, with what is known of their integrity.
CREATE TABLE restore_points (
    repo_id TEXT NOT NULL,
    snapshot_id TEXT NOT NULL,
    asset_id TEXT NOT NULL,
    dataset TEXT NOT NULL,
    policy TEXT,
    time_us INTEGER NOT NULL,
    files INTEGER,
    bytes INTEGER,
    bytes_added INTEGER,
    verified_us INTEGER,
    failed_us INTEGER,
    failure TEXT,
    PRIMARY KEY (repo_id, snapshot_id)
);
CREATE INDEX restore_points_by_asset ON restore_points (asset_id, time_us);

-- Verifications of whole repositories, for rolling read-data cycles.
CREATE TABLE verifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    mode TEXT NOT NULL,
    slice_index INTEGER,
    slice_of INTEGER,
    ok INTEGER NOT NULL
);
