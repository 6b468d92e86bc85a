-- Every operation Reprise runs (backup, restore, verification, retention, copy).
CREATE TABLE runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    asset_id TEXT,
    dataset TEXT,
    repo_id TEXT,
    started_us BIGINT NOT NULL,
    finished_us BIGINT,
    status TEXT NOT NULL,
    snapshot_id TEXT,
    files BIGINT,
    bytes_read BIGINT,
    bytes_added BIGINT,
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
    time_us BIGINT NOT NULL,
    files BIGINT,
    bytes BIGINT,
    bytes_added BIGINT,
    verified_us BIGINT,
    failed_us BIGINT,
    failure TEXT,
    PRIMARY KEY (repo_id, snapshot_id)
);
CREATE INDEX restore_points_by_asset ON restore_points (asset_id, time_us);

-- Verifications of whole repositories, for rolling read-data cycles.
CREATE TABLE verifications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repo_id TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    mode TEXT NOT NULL,
    slice_index BIGINT,
    slice_of BIGINT,
    ok BOOLEAN NOT NULL
);
