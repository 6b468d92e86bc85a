-- States recorded outside the configuration: by hand (`reprise inventory set-state`, the
-- "état des lieux au …" of R004.1) or by a finished recovery step. The newest one of an
-- asset is its current state, unless the configuration's state changed after it.
CREATE TABLE asset_states (
    seq BIGSERIAL PRIMARY KEY,
    asset_id TEXT NOT NULL,
    state TEXT NOT NULL,
    since_us BIGINT NOT NULL,
    at_us BIGINT NOT NULL,
    actor TEXT,
    note TEXT
);
CREATE INDEX asset_states_by_asset ON asset_states (asset_id, seq);
