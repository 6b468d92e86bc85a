-- RPO/RTO targets approved by the business owner (R003.6), append-only: the newest
-- approval of an asset counts, and only while its targets are still the approved ones.
CREATE TABLE approvals (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_id TEXT NOT NULL,
    rpo TEXT,
    rto TEXT,
    approved_by TEXT NOT NULL,
    at_us BIGINT NOT NULL
);
CREATE INDEX approvals_by_asset ON approvals (asset_id, seq);
