-- Incidents: title, severity and phase as columns (listed and filtered), everything else
-- (roles, assessment, approved plan and its progress, updates, sign-off, review) as one
-- JSON document. `version` makes concurrent edits fail instead of overwriting each other.
CREATE TABLE incidents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    phase TEXT NOT NULL,
    source TEXT,
    opened_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL,
    closed_us BIGINT,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL
);

-- The timeline of each incident, append-only.
CREATE TABLE incident_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL,
    at_us BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    text TEXT NOT NULL
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id, seq);
