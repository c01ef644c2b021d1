-- Bookings and the fair waiting list. One row is one request for places at
-- one session: booked, or waiting (with a position), and later cancelled,
-- left (the person left the list or declined an offer) or expired (an offer
-- was not answered in time). Public bookings need only a name and a way to
-- be contacted; no person record is made.

CREATE TABLE group_bookings (
    id {{ID}},
    session_id BIGINT NOT NULL REFERENCES group_sessions (id),
    reference TEXT NOT NULL UNIQUE,
    places INTEGER NOT NULL CHECK (places BETWEEN 1 AND 10),
    status TEXT NOT NULL CHECK (status IN ('booked', 'waiting', 'cancelled', 'left', 'expired')),
    position INTEGER,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    access_needs TEXT NOT NULL DEFAULT '',
    user_id BIGINT REFERENCES users (id),
    person_id BIGINT REFERENCES people (id),
    source TEXT NOT NULL CHECK (source IN ('public', 'account')),
    joined_list_at {{TIMESTAMP}},
    booked_at {{TIMESTAMP}},
    cancelled_at {{TIMESTAMP}},
    late_cancel BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL,
    CHECK ((status = 'waiting') = (position IS NOT NULL))
);
-- Distinct positions on each session's list, held by the database.
CREATE UNIQUE INDEX group_bookings_position ON group_bookings (session_id, position) WHERE status = 'waiting';
-- One live booking or place on the list per account per session.
CREATE UNIQUE INDEX group_bookings_one_per_account ON group_bookings (session_id, user_id)
    WHERE status IN ('booked', 'waiting') AND user_id IS NOT NULL;
CREATE INDEX group_bookings_session ON group_bookings (session_id, status);
CREATE INDEX group_bookings_user ON group_bookings (user_id);
CREATE INDEX group_bookings_person ON group_bookings (person_id);

-- The keys in links sent to the person (only their hashes): each lets its
-- holder see, cancel, or answer an offer for one booking.
CREATE TABLE group_booking_keys (
    key_hash TEXT PRIMARY KEY,
    booking_id BIGINT NOT NULL REFERENCES group_bookings (id),
    created_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX group_booking_keys_booking ON group_booking_keys (booking_id);

-- Everything that happened to a booking, shown to the person: every move
-- of a waiting-list position by staff carries its reason.
CREATE TABLE group_booking_events (
    id {{ID}},
    booking_id BIGINT NOT NULL REFERENCES group_bookings (id),
    at {{TIMESTAMP}} NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    kind TEXT NOT NULL,
    from_position INTEGER,
    to_position INTEGER,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX group_booking_events_booking ON group_booking_events (booking_id, id);

-- Places offered from the waiting list, held until expires_at.
CREATE TABLE group_offers (
    id {{ID}},
    booking_id BIGINT NOT NULL REFERENCES group_bookings (id),
    session_id BIGINT NOT NULL REFERENCES group_sessions (id),
    places INTEGER NOT NULL CHECK (places BETWEEN 1 AND 10),
    offered_at {{TIMESTAMP}} NOT NULL,
    expires_at {{TIMESTAMP}} NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    answered_at {{TIMESTAMP}}
);
CREATE UNIQUE INDEX group_offers_one_open ON group_offers (booking_id) WHERE status = 'open';
CREATE INDEX group_offers_due ON group_offers (status, expires_at);
CREATE INDEX group_offers_session ON group_offers (session_id);

-- The register: who came. A booking's row says whether its people came; a
-- drop-in's row (no booking) names them as the facilitator wrote it.
CREATE TABLE group_attendance (
    id {{ID}},
    session_id BIGINT NOT NULL REFERENCES group_sessions (id),
    booking_id BIGINT REFERENCES group_bookings (id),
    name TEXT NOT NULL DEFAULT '',
    people INTEGER NOT NULL DEFAULT 1 CHECK (people BETWEEN 0 AND 50),
    outcome TEXT NOT NULL CHECK (outcome IN ('attended', 'no_show')),
    recorded_by_user_id BIGINT REFERENCES users (id),
    recorded_at {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX group_attendance_booking ON group_attendance (session_id, booking_id);
