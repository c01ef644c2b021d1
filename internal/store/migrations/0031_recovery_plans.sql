-- Recovery: the plan a person holds. One current plan per person, in their
-- own words; every change is kept as a version (who, when, in which role,
-- and whether a worker drafted it with them), so the person always sees what
-- changed. The crisis and support plan and the advance choices are shared
-- with the care team only with the person's consent (share_with_care_team).
CREATE TABLE recovery_plans (
    person_id BIGINT PRIMARY KEY REFERENCES people (id),
    version INTEGER NOT NULL,
    what_matters TEXT NOT NULL DEFAULT '',
    crisis_early_signs TEXT NOT NULL DEFAULT '',
    crisis_what_helps TEXT NOT NULL DEFAULT '',
    crisis_contacts TEXT NOT NULL DEFAULT '',
    crisis_not_wanted TEXT NOT NULL DEFAULT '',
    advance_would_take TEXT NOT NULL DEFAULT '',
    advance_would_not_take TEXT NOT NULL DEFAULT '',
    advance_second_opinion TEXT NOT NULL DEFAULT '',
    advance_refused TEXT NOT NULL DEFAULT '',
    share_with_care_team BOOLEAN NOT NULL DEFAULT FALSE,
    review_weeks INTEGER NOT NULL DEFAULT 12 CHECK (review_weeks BETWEEN 1 AND 52),
    review_attendees TEXT NOT NULL DEFAULT '',
    review_place TEXT NOT NULL DEFAULT '',
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL,
    updated_by_user_id BIGINT REFERENCES users (id)
);

-- Every version of a plan: the whole plan as it stood after the change (a
-- JSON object), and the sections changed.
CREATE TABLE recovery_plan_versions (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    version INTEGER NOT NULL,
    at {{TIMESTAMP}} NOT NULL,
    by_user_id BIGINT REFERENCES users (id),
    by_role TEXT NOT NULL DEFAULT '',
    drafted_with_worker BOOLEAN NOT NULL DEFAULT FALSE,
    changed TEXT NOT NULL DEFAULT '',
    snapshot TEXT NOT NULL,
    UNIQUE (person_id, version)
);
