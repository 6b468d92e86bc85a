-- The journal: every change of state, append-only, each entry's hash covering the
-- previous entry's hash. `seq` is assigned by the append (1, 2, 3…), so a removed entry
-- leaves a visible gap.
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,
    at_us INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
