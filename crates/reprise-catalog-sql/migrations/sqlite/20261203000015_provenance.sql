-- Which snapshots Reprise made (a backup), copied (to a policy's `copy_to`) or was told
-- to trust (adopted by an operator, with a reason). Only these are restore points: a
-- snapshot anyone with the repository password wrote, whatever its tags, is foreign.
CREATE TABLE provenance (
    repo_id TEXT NOT NULL,
    snapshot_id TEXT NOT NULL,
    how TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    actor TEXT,
    reason TEXT,
    PRIMARY KEY (repo_id, snapshot_id)
);

-- Restore points known before provenance was kept were trusted then: they stay trusted.
INSERT INTO provenance (repo_id, snapshot_id, how, at_us, reason)
SELECT repo_id, snapshot_id, 'recorded', time_us, 'known before provenance was kept'
FROM restore_points;
