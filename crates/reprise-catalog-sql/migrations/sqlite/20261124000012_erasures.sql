-- The erasure ledger (R002.3): what was erased, from where, when and by whom, as one
-- JSON document; never the erased data. Restores read it so as never to bring it back.
CREATE TABLE erasures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asset TEXT NOT NULL,
    state TEXT NOT NULL,
    created_us BIGINT NOT NULL,
    finished_us BIGINT,
    doc TEXT NOT NULL
);
CREATE INDEX erasures_by_asset ON erasures (asset, id);
