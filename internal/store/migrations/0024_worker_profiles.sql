-- A peer worker's profile: hours (in minutes a week), the caseload cap they
-- give (or a cap set for them), and the details matching may use. gender is
-- used for matching only when gender_for_matching is set. details holds the
-- lists as JSON: languages, settings, places, days, times, areas.
CREATE TABLE worker_profiles (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    version INTEGER NOT NULL,
    minutes_per_week INTEGER NOT NULL CHECK (minutes_per_week BETWEEN 0 AND 3600),
    cap_override INTEGER CHECK (cap_override BETWEEN 0 AND 60),
    gender TEXT NOT NULL DEFAULT '',
    gender_for_matching BOOLEAN NOT NULL DEFAULT FALSE,
    details TEXT NOT NULL,
    updated_by_user_id BIGINT REFERENCES users (id),
    updated_at {{TIMESTAMP}} NOT NULL
);

-- A period of reduced capacity, such as a phased return to work after sick
-- leave: the cap is scaled to percent from starts_on to ends_on inclusive.
CREATE TABLE capacity_reductions (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 99),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by_user_id BIGINT REFERENCES users (id),
    created_at {{TIMESTAMP}} NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX capacity_reductions_user ON capacity_reductions (user_id, ends_on);
