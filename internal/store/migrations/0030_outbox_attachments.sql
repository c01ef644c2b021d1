-- Email attachments (a calendar file with a reminder), as a JSON list of
-- {name, content_type, data (base64)}; '' for none.
ALTER TABLE outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
