-- Reviews: at most one planned review per person (the next one, when,
-- where and with whom), and the record of each review held: who came, what
-- was reviewed and agreed. due_at is when the review was planned for, kept
-- on a held review to tell whether it was held on time. reminded_at is set
-- once, by whichever instance sends the reminders.
CREATE TABLE recovery_reviews (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    team_id BIGINT REFERENCES teams (id),
    status TEXT NOT NULL CHECK (status IN ('planned', 'held', 'cancelled')),
    due_at {{TIMESTAMP}} NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    attendees TEXT NOT NULL DEFAULT '',
    held_at {{TIMESTAMP}},
    reviewed TEXT NOT NULL DEFAULT '',
    agreed TEXT NOT NULL DEFAULT '',
    dialog_session_id BIGINT REFERENCES dialog_sessions (id),
    recorded_by_user_id BIGINT REFERENCES users (id),
    recorded_role TEXT NOT NULL DEFAULT '',
    reminded_at {{TIMESTAMP}},
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX recovery_reviews_one_planned ON recovery_reviews (person_id) WHERE status = 'planned';
CREATE INDEX recovery_reviews_person ON recovery_reviews (person_id, due_at);
CREATE INDEX recovery_reviews_due ON recovery_reviews (status, due_at);
CREATE INDEX recovery_reviews_held ON recovery_reviews (held_at);
