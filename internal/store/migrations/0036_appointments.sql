-- The support itself (#12): appointments between a person and their peer
-- worker, and each organisation's settings for the worker's day. Status
-- follows FHIR Appointment (proposed → booked → arrived → fulfilled, or
-- cancelled or noshow), validated by the support package's state machine.
-- A worker is never booked twice at once: every booking takes the worker's
-- lock (PostgreSQL: an advisory lock; SQLite: the write lock) before it
-- looks for an overlap, so two bookings of one slot cannot both see it free.
CREATE TABLE appointments (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    team_id BIGINT REFERENCES teams (id),
    worker_user_id BIGINT NOT NULL REFERENCES users (id),
    starts_at {{TIMESTAMP}} NOT NULL,
    ends_at {{TIMESTAMP}} NOT NULL,
    minutes INTEGER NOT NULL CHECK (minutes > 0),
    place TEXT NOT NULL,
    place_detail TEXT NOT NULL DEFAULT '',
    others TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('proposed', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow')),
    -- Who asked for it: the worker proposed it, or the person asked.
    asked_by TEXT NOT NULL CHECK (asked_by IN ('worker', 'person')),
    -- Who cancelled it (person or worker) and why.
    cancelled_by TEXT NOT NULL DEFAULT '',
    cancel_reason TEXT NOT NULL DEFAULT '',
    rescheduled_from BIGINT REFERENCES appointments (id),
    created_by_user_id BIGINT REFERENCES users (id),
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL,
    updated_by_user_id BIGINT REFERENCES users (id),
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX appointments_worker ON appointments (worker_user_id, starts_at);
CREATE INDEX appointments_person ON appointments (person_id, starts_at);
CREATE INDEX appointments_referral ON appointments (referral_id);

-- Each organisation's settings for the worker's day. No row: someone with
-- no contact for 14 days is overdue.
CREATE TABLE support_settings (
    organisation_id BIGINT PRIMARY KEY REFERENCES organisations (id),
    overdue_days INTEGER NOT NULL CHECK (overdue_days BETWEEN 1 AND 365),
    updated_at {{TIMESTAMP}} NOT NULL,
    updated_by_user_id BIGINT REFERENCES users (id)
);
