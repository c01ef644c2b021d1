-- Foundation: organisations, teams, accounts, sessions, the audit trail,
-- the mail outbox and shared rate-limit counters.

CREATE TABLE organisations (
    id {{ID}},
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('nhs_trust', 'partner_agency', 'peer_network')),
    created_at {{TIMESTAMP}} NOT NULL
);

CREATE TABLE teams (
    id {{ID}},
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    setting TEXT NOT NULL CHECK (setting IN ('community', 'acute_ward', 'secure_ward', 'crisis',
        'camhs_transition', 'partner', 'peer_group')),
    created_at {{TIMESTAMP}} NOT NULL,
    UNIQUE (organisation_id, name)
);

-- A person who uses services. Many people have no account: they referred
-- themselves without one, or are known from a caseload import.
CREATE TABLE people (
    id {{ID}},
    preferred_name TEXT NOT NULL,
    full_name TEXT NOT NULL DEFAULT '',
    date_of_birth DATE,
    birth_year INTEGER,
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    contact_preference TEXT NOT NULL DEFAULT '',
    contact_times TEXT NOT NULL DEFAULT '',
    gender TEXT NOT NULL DEFAULT '',
    ethnicity TEXT NOT NULL DEFAULT '',
    ethnicity_other TEXT NOT NULL DEFAULT '',
    disability TEXT NOT NULL DEFAULT '',
    first_language TEXT NOT NULL DEFAULT '',
    trust_ref TEXT UNIQUE,
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX people_email ON people (email);
CREATE INDEX people_phone ON people (phone);
CREATE INDEX people_name_dob ON people (date_of_birth, preferred_name);

CREATE TABLE users (
    id {{ID}},
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
    person_id BIGINT UNIQUE REFERENCES people (id),
    totp_secret TEXT NOT NULL DEFAULT '',
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL
);

CREATE TABLE memberships (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('person', 'carer', 'peer_worker', 'peer_lead', 'clinician',
        'partner_worker', 'moderator', 'analyst', 'service_manager', 'admin')),
    team_id BIGINT REFERENCES teams (id),
    created_at {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX memberships_unique ON memberships (user_id, role, COALESCE(team_id, 0));
CREATE INDEX memberships_team ON memberships (team_id, role);

CREATE TABLE recovery_codes (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at {{TIMESTAMP}}
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- Server-side sessions. id is the SHA-256 of the cookie value, so a copy of
-- this table cannot be used to sign in.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at {{TIMESTAMP}} NOT NULL,
    last_seen_at {{TIMESTAMP}} NOT NULL,
    idle_seconds INTEGER NOT NULL,
    expires_at {{TIMESTAMP}} NOT NULL,
    mfa_ok BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    created_at {{TIMESTAMP}} NOT NULL,
    last_used_at {{TIMESTAMP}},
    revoked_at {{TIMESTAMP}}
);

-- One-time links sent by email: invitations, password resets.
CREATE TABLE user_tokens (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at {{TIMESTAMP}} NOT NULL,
    expires_at {{TIMESTAMP}} NOT NULL,
    used_at {{TIMESTAMP}}
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- Fixed-window counters shared by every instance: sign-in failures and
-- public form submissions.
CREATE TABLE rate_counters (
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);

CREATE TABLE outbox (
    id {{ID}},
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at {{TIMESTAMP}} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {{TIMESTAMP}} NOT NULL,
    claimed_until {{TIMESTAMP}},
    sent_at {{TIMESTAMP}},
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

-- The audit trail. Append-only (enforced by triggers below) and
-- hash-chained: each row's hash covers its content and the previous hash.
CREATE TABLE audit_events (
    id {{ID}},
    at {{TIMESTAMP}} NOT NULL,
    request_id TEXT NOT NULL,
    actor_user_id BIGINT,
    actor_role TEXT NOT NULL,
    actor_team_id BIGINT,
    action TEXT NOT NULL,
    subject_person_id BIGINT,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit_events (subject_person_id, id);
CREATE INDEX audit_actor ON audit_events (actor_user_id, id);

-- sqlite only
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
-- end
-- postgres only
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_append_only();
-- end
