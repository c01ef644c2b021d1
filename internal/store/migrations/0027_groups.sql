-- Groups and events: peer-led groups, courses, network meetings and partner
-- events. A group is run by a team (of an NHS trust, a partner agency or the
-- peer network itself); each of its sessions is a date with its own places.
-- No referral is needed to come to a group.

CREATE TABLE peer_groups (
    id {{ID}},
    team_id BIGINT NOT NULL REFERENCES teams (id),
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    -- How its sessions repeat, for its listing; each session is a row.
    repeats TEXT NOT NULL CHECK (repeats IN ('once', 'weekly', 'fortnightly', 'monthly')),
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'members', 'invitation')),
    -- The code in an invitation-only group's link: it shows the group, it
    -- opens no one's data.
    invite_code TEXT NOT NULL DEFAULT '',
    booking TEXT NOT NULL CHECK (booking IN ('required', 'drop_in')),
    capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 500),
    max_places INTEGER NOT NULL DEFAULT 2 CHECK (max_places BETWEEN 1 AND 10),
    hold_hours INTEGER NOT NULL DEFAULT 24 CHECK (hold_hours BETWEEN 1 AND 168),
    online BOOLEAN NOT NULL DEFAULT FALSE,
    online_link TEXT NOT NULL DEFAULT '',
    venue_name TEXT NOT NULL DEFAULT '',
    venue_address TEXT NOT NULL DEFAULT '',
    step_free BOOLEAN NOT NULL DEFAULT FALSE,
    hearing_loop BOOLEAN NOT NULL DEFAULT FALSE,
    quiet_room BOOLEAN NOT NULL DEFAULT FALSE,
    transport TEXT NOT NULL DEFAULT '',
    access_notes TEXT NOT NULL DEFAULT '',
    proposal_id BIGINT,
    created_by_user_id BIGINT REFERENCES users (id),
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX peer_groups_team ON peer_groups (team_id);
CREATE INDEX peer_groups_created ON peer_groups (created_at);

-- The rota: who may facilitate a group's sessions.
CREATE TABLE group_facilitators (
    group_id BIGINT NOT NULL REFERENCES peer_groups (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    added_at {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_facilitators_user ON group_facilitators (user_id);

-- places_held counts the places booked and the places held for open offers:
-- the CHECK makes overbooking impossible whatever the code does.
CREATE TABLE group_sessions (
    id {{ID}},
    group_id BIGINT NOT NULL REFERENCES peer_groups (id),
    starts_at {{TIMESTAMP}} NOT NULL,
    ends_at {{TIMESTAMP}} NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 500),
    places_held INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    cancel_reason TEXT NOT NULL DEFAULT '',
    register_taken_at {{TIMESTAMP}},
    reminded_at {{TIMESTAMP}},
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL,
    CHECK (places_held >= 0 AND places_held <= capacity),
    CHECK (ends_at > starts_at)
);
CREATE INDEX group_sessions_group ON group_sessions (group_id, starts_at);
CREATE INDEX group_sessions_starts ON group_sessions (starts_at);

-- Who facilitates each session (from the rota, or chosen).
CREATE TABLE session_facilitators (
    session_id BIGINT NOT NULL REFERENCES group_sessions (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX session_facilitators_user ON session_facilitators (user_id);
