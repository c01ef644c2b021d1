-- DIALOG+: each session rates the eleven items from 1 (totally dissatisfied)
-- to 7 (totally satisfied), each with "do you want more help with this?";
-- up to three items are discussed through the four steps, and the agreed
-- actions come back at the next session (followup says how they went).
-- alone: the person filled it in on their own, from their account.
CREATE TABLE dialog_sessions (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    team_id BIGINT REFERENCES teams (id),
    at {{TIMESTAMP}} NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('start', 'review', 'end', 'between')),
    alone BOOLEAN NOT NULL,
    followup TEXT NOT NULL DEFAULT '',
    recorded_by_user_id BIGINT REFERENCES users (id),
    recorded_role TEXT NOT NULL DEFAULT '',
    created_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX dialog_sessions_person ON dialog_sessions (person_id, at);
CREATE INDEX dialog_sessions_at ON dialog_sessions (at);

CREATE TABLE dialog_ratings (
    session_id BIGINT NOT NULL REFERENCES dialog_sessions (id),
    item TEXT NOT NULL CHECK (item IN ('mental_health', 'physical_health', 'job', 'accommodation', 'leisure',
        'friendships', 'partner_family', 'safety', 'medication', 'practical_help', 'meetings')),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 7),
    more_help BOOLEAN NOT NULL,
    PRIMARY KEY (session_id, item)
);

CREATE TABLE dialog_discussions (
    session_id BIGINT NOT NULL REFERENCES dialog_sessions (id),
    item TEXT NOT NULL,
    position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 3),
    understanding TEXT NOT NULL DEFAULT '',
    looking_forward TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '',
    actions TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (session_id, item)
);
