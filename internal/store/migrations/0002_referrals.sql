-- Every door in: referrals and their history, contacts, the offers ledger,
-- notifications, and caseload episodes (who is on whose caseload).

ALTER TABLE people ADD COLUMN created_by_user_id BIGINT REFERENCES users (id);
ALTER TABLE people ADD COLUMN merged_into_id BIGINT REFERENCES people (id);

CREATE TABLE referrals (
    id {{ID}},
    reference TEXT NOT NULL UNIQUE,
    person_id BIGINT NOT NULL REFERENCES people (id),
    source TEXT NOT NULL CHECK (source IN ('self', 'carer', 'staff', 'partner', 'community')),
    status TEXT NOT NULL CHECK (status IN ('received', 'accepted', 'declined', 'redirected', 'allocated',
        'active', 'ended', 'withdrawn')),
    version INTEGER NOT NULL DEFAULT 1,
    team_id BIGINT REFERENCES teams (id),
    referrer_user_id BIGINT REFERENCES users (id),
    referrer_team_id BIGINT REFERENCES teams (id),
    referrer_relationship TEXT NOT NULL DEFAULT '',
    for_carer BOOLEAN NOT NULL DEFAULT FALSE,
    asked_for TEXT NOT NULL DEFAULT '',
    worker_preferences TEXT NOT NULL DEFAULT '',
    contact_how TEXT NOT NULL DEFAULT '',
    contact_when TEXT NOT NULL DEFAULT '',
    met_at TEXT NOT NULL DEFAULT '',
    person_knows BOOLEAN NOT NULL DEFAULT TRUE,
    consent TEXT NOT NULL CHECK (consent IN ('self', 'given', 'not_obtained')),
    consent_reason TEXT NOT NULL DEFAULT '',
    share_with_referrer BOOLEAN NOT NULL DEFAULT TRUE,
    share_beyond_team BOOLEAN NOT NULL DEFAULT FALSE,
    previous_referral_id BIGINT REFERENCES referrals (id),
    allocated_worker_id BIGINT REFERENCES users (id),
    status_reason TEXT NOT NULL DEFAULT '',
    status_note TEXT NOT NULL DEFAULT '',
    redirected_to TEXT NOT NULL DEFAULT '',
    redirect_message TEXT NOT NULL DEFAULT '',
    outcome_summary TEXT NOT NULL DEFAULT '',
    received_at {{TIMESTAMP}} NOT NULL,
    accepted_at {{TIMESTAMP}},
    allocated_at {{TIMESTAMP}},
    first_contact_at {{TIMESTAMP}},
    closed_at {{TIMESTAMP}},
    updated_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX referrals_person ON referrals (person_id);
CREATE INDEX referrals_team_status ON referrals (team_id, status, received_at);
CREATE INDEX referrals_status_received ON referrals (status, received_at);
CREATE INDEX referrals_referrer ON referrals (referrer_user_id);
CREATE INDEX referrals_worker ON referrals (allocated_worker_id);
CREATE INDEX referrals_received ON referrals (received_at);

CREATE TABLE referral_events (
    id {{ID}},
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    at {{TIMESTAMP}} NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    actor_role TEXT NOT NULL DEFAULT '',
    from_status TEXT NOT NULL DEFAULT '',
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, id);

CREATE TABLE contacts (
    id {{ID}},
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    worker_user_id BIGINT NOT NULL REFERENCES users (id),
    at {{TIMESTAMP}} NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('in_person', 'phone', 'video', 'text_email', 'group')),
    while_waiting BOOLEAN NOT NULL DEFAULT FALSE,
    minutes INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    created_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX contacts_referral ON contacts (referral_id, at);

-- The offers ledger: every time someone is told about peer support, and
-- what they said.
CREATE TABLE offers (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    recorded_by_user_id BIGINT REFERENCES users (id),
    team_id BIGINT REFERENCES teams (id),
    at {{TIMESTAMP}} NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('conversation', 'leaflet', 'text_email', 'review', 'ward_discharge', 'self_report')),
    response TEXT NOT NULL CHECK (response IN ('interested', 'not_now', 'declined', 'told', 'never_told')),
    referral_id BIGINT REFERENCES referrals (id),
    note TEXT NOT NULL DEFAULT '',
    created_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX offers_person ON offers (person_id, at);
CREATE INDEX offers_team_at ON offers (team_id, at);
CREATE INDEX offers_by ON offers (recorded_by_user_id, at);

CREATE TABLE notifications (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    referral_id BIGINT REFERENCES referrals (id),
    message TEXT NOT NULL,
    created_at {{TIMESTAMP}} NOT NULL,
    read_at {{TIMESTAMP}}
);
CREATE INDEX notifications_user ON notifications (user_id, id);

-- Who is on whose caseload, from the trust's electronic record. One row per
-- episode; person_ref is the trust's own identifier, kept as given.
CREATE TABLE caseload_episodes (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    person_ref TEXT NOT NULL,
    team_id BIGINT NOT NULL REFERENCES teams (id),
    coordinator_email TEXT NOT NULL,
    coordinator_user_id BIGINT REFERENCES users (id),
    start_date DATE NOT NULL,
    end_date DATE,
    birth_year INTEGER,
    gender TEXT NOT NULL DEFAULT '',
    ethnicity TEXT NOT NULL DEFAULT '',
    disability TEXT NOT NULL DEFAULT '',
    first_language TEXT NOT NULL DEFAULT '',
    setting TEXT NOT NULL DEFAULT '',
    imported_at {{TIMESTAMP}} NOT NULL,
    UNIQUE (person_ref, team_id, coordinator_email, start_date)
);
CREATE INDEX caseload_person ON caseload_episodes (person_id);
CREATE INDEX caseload_team ON caseload_episodes (team_id, start_date);
CREATE INDEX caseload_coordinator ON caseload_episodes (coordinator_email, start_date);
