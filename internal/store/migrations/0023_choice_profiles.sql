-- A person's choices about their peer support: who supports them, where, and
-- how their support is reviewed. One row per version, never changed, so the
-- person can see what was recorded, by whom and when; the newest version is
-- the one in force. choices is the whole profile as JSON (every field is
-- optional). by_person: the person recorded it themselves; with_person: staff
-- recorded it with the person there.
CREATE TABLE choice_profiles (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    version INTEGER NOT NULL,
    choices TEXT NOT NULL,
    recorded_by_user_id BIGINT REFERENCES users (id),
    recorded_by_role TEXT NOT NULL,
    by_person BOOLEAN NOT NULL,
    with_person BOOLEAN NOT NULL,
    recorded_at {{TIMESTAMP}} NOT NULL,
    UNIQUE (person_id, version)
);

-- Each organisation's matching settings: its list of shared-experience themes
-- (JSON [{"code", "label"}]) and how many people a full-time peer worker
-- supports. An organisation without a row uses the defaults.
CREATE TABLE matching_settings (
    organisation_id BIGINT PRIMARY KEY REFERENCES organisations (id),
    people_per_fte INTEGER NOT NULL CHECK (people_per_fte BETWEEN 1 AND 60),
    full_time_minutes INTEGER NOT NULL CHECK (full_time_minutes BETWEEN 60 AND 3600),
    themes TEXT NOT NULL,
    updated_by_user_id BIGINT REFERENCES users (id),
    updated_at {{TIMESTAMP}} NOT NULL
);
