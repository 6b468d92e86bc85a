-- Timeline events keep their sentence in French beside the English one, so French
-- pages and reports show no English (events recorded earlier have none).
ALTER TABLE incident_events ADD COLUMN text_fr TEXT;
ALTER TABLE request_events ADD COLUMN text_fr TEXT;
