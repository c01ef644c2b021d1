-- Reminder choices (#12): each person chooses when they are reminded of a
-- booked appointment: the day before (24 hours; the default, and what a
-- person without a row gets), 2 hours before, both, or none. Staff may
-- record it for them. Each kind of reminder is claimed by its own column,
-- so several instances send each once: reminded_at (the day before, since
-- 0039) and reminded_soon_at (2 hours before).
CREATE TABLE reminder_choices (
    person_id BIGINT PRIMARY KEY REFERENCES people (id),
    choice TEXT NOT NULL CHECK (choice IN ('24h', '2h', 'both', 'none')),
    updated_at {{TIMESTAMP}} NOT NULL,
    updated_by_user_id BIGINT REFERENCES users (id),
    updated_role TEXT NOT NULL
);
ALTER TABLE appointments ADD COLUMN reminded_soon_at {{TIMESTAMP}};
CREATE INDEX appointments_to_remind_soon ON appointments (starts_at) WHERE reminded_soon_at IS NULL;
