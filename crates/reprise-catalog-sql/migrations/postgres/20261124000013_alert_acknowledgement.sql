-- Alerts can be acknowledged: someone is on it (the alert stays open until its
-- condition clears).
ALTER TABLE alerts ADD COLUMN acknowledged_us BIGINT;
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT;
