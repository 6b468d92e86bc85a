-- Supervision alerts: opened once per condition (key), updated, resolved when it clears.
CREATE TABLE alerts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    opened_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL,
    resolved_us BIGINT
);
CREATE INDEX alerts_open ON alerts (key, resolved_us);
