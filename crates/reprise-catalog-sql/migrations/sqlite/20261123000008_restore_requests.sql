-- Restore requests: state and requester as columns (listed, followed), the request, its
-- feasibility, plan, execution and checks as one JSON document. `version` makes
-- concurrent edits fail instead of overwriting each other.
CREATE TABLE restore_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    requester TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    closed_us INTEGER,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);

-- What happened to each request, append-only: what the requester follows.
CREATE TABLE request_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER NOT NULL,
    at_us INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    text TEXT NOT NULL
);
CREATE INDEX request_events_by_request ON request_events (request_id, seq);
