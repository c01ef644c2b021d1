-- What every allocation met of the person's choices, and what it did not.
-- met and unmet are JSON lists of criteria (kind, code, words). over_cap is
-- set when a lead allocated above the worker's cap, with their reason.
-- person_id and referral_id are cleared when a person's data is forgotten.
CREATE TABLE allocation_matches (
    id {{ID}},
    referral_id BIGINT REFERENCES referrals (id),
    person_id BIGINT REFERENCES people (id),
    team_id BIGINT REFERENCES teams (id),
    worker_user_id BIGINT NOT NULL REFERENCES users (id),
    allocated_by_user_id BIGINT REFERENCES users (id),
    plan_id BIGINT,
    choices_version INTEGER NOT NULL DEFAULT 0,
    met TEXT NOT NULL,
    unmet TEXT NOT NULL,
    over_cap BOOLEAN NOT NULL DEFAULT FALSE,
    over_cap_reason TEXT NOT NULL DEFAULT '',
    caseload INTEGER NOT NULL,
    cap INTEGER NOT NULL,
    accepted_at {{TIMESTAMP}},
    at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX allocation_matches_referral ON allocation_matches (referral_id, id);
CREATE INDEX allocation_matches_person ON allocation_matches (person_id);
CREATE INDEX allocation_matches_at ON allocation_matches (at);

-- One row per choice an allocation could not meet, for service planning:
-- which choice, which team, when. person_id and referral_id are cleared when
-- a person's data is forgotten; the counts stay.
CREATE TABLE unmet_choices (
    id {{ID}},
    match_id BIGINT NOT NULL REFERENCES allocation_matches (id),
    referral_id BIGINT REFERENCES referrals (id),
    person_id BIGINT REFERENCES people (id),
    team_id BIGINT REFERENCES teams (id),
    kind TEXT NOT NULL CHECK (kind IN ('same_worker', 'gender', 'language', 'theme', 'place', 'day', 'time')),
    code TEXT NOT NULL DEFAULT '',
    must BOOLEAN NOT NULL DEFAULT FALSE,
    at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX unmet_choices_at ON unmet_choices (at);
CREATE INDEX unmet_choices_person ON unmet_choices (person_id);

-- A person asked for a different worker, without giving a reason: matching
-- leaves that worker out for them from then on.
CREATE TABLE worker_exclusions (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    worker_user_id BIGINT NOT NULL REFERENCES users (id),
    referral_id BIGINT REFERENCES referrals (id),
    recorded_by_user_id BIGINT REFERENCES users (id),
    at {{TIMESTAMP}} NOT NULL,
    UNIQUE (person_id, worker_user_id)
);

-- A proposed allocation of one or more teams' waiting lists. body is the plan
-- as shown (JSON); basis is what it was computed from, compared at commit so
-- a stale plan is refused with what changed.
CREATE TABLE allocation_plans (
    id {{ID}},
    created_by_user_id BIGINT NOT NULL REFERENCES users (id),
    teams TEXT NOT NULL,
    body TEXT NOT NULL,
    basis TEXT NOT NULL,
    created_at {{TIMESTAMP}} NOT NULL,
    committed_at {{TIMESTAMP}}
);
CREATE INDEX allocation_plans_creator ON allocation_plans (created_by_user_id, id);
