-- Restore requests: state and requester as columns (listed, followed), the request, its
-- feasibility, plan, execution and checks as one JSON document. `version` makes
-- concurrent edits fail instead of overwriting each other.
CREATE TABLE restore_requests (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state TEXT NOT NULL,
    requester TEXT NOT NULL,
    created_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL,
    closed_us BIGINT,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL
);

-- What happened to each request, append-only: what the requester follows.
CREATE TABLE request_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT NOT NULL,
    at_us BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    text TEXT NOT NULL
);
CREATE INDEX request_events_by_request ON request_events (request_id, seq);
