-- Reminders (#12): each booked appointment's person is emailed the day
-- before (24 hours), with a calendar file; reminded_at claims it, so several
-- instances remind once.
ALTER TABLE appointments ADD COLUMN reminded_at {{TIMESTAMP}};
CREATE INDEX appointments_to_remind ON appointments (starts_at) WHERE reminded_at IS NULL;
