-- Backups whose signals look like an attack (files rewritten with data that does not
-- compress, mass deletion, ransom notes). A suspicion concerns the moment backed up, so
-- it is keyed by asset, data set and the point's time: every repository holding that
-- backup, copies included, holds a suspect point. Cleared by a person, never deleted.
CREATE TABLE suspicions (
    asset_id TEXT NOT NULL,
    dataset TEXT NOT NULL,
    time_us BIGINT NOT NULL,
    repo_id TEXT NOT NULL,
    snapshot_id TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    reasons TEXT NOT NULL,
    signals TEXT,
    cleared_us BIGINT,
    cleared_by TEXT,
    clearance TEXT,
    PRIMARY KEY (asset_id, dataset, time_us)
);
