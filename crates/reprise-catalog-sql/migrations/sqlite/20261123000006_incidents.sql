-- Incidents: title, severity and phase as columns (listed and filtered), everything else
-- (roles, assessment, approved plan and its progress, updates, sign-off, review) as one
-- JSON document. `version` makes concurrent edits fail instead of overwriting each other.
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    phase TEXT NOT NULL,
    source TEXT,
    opened_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    closed_us INTEGER,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);

-- The timeline of each incident, append-only.
CREATE TABLE incident_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL,
    at_us INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    text TEXT NOT NULL
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id, seq);
