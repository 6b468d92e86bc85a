-- What Reprise last saw of each device whose configuration it collects (routers,
-- switches, cameras): a cache of the newest restore point's configuration, masked, so a
-- watch compares without reading the repository, and the last change it saw.
CREATE TABLE devices (
    asset_id TEXT NOT NULL,
    dataset TEXT NOT NULL,
    checked_us BIGINT,
    checks BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    fingerprint TEXT,
    redacted TEXT,
    changed_us BIGINT,
    change TEXT,
    backed_up_us BIGINT,
    snapshot TEXT,
    PRIMARY KEY (asset_id, dataset)
);
