-- Supervision alerts: opened once per condition (key), updated, resolved when it clears.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    opened_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    resolved_us INTEGER
);
CREATE INDEX alerts_open ON alerts (key, resolved_us);
