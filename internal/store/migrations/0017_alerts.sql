-- Alerts that stay until someone records what they did, and escalate when
-- nobody has by the time they are due (#10). The first kind is possible risk
-- in text written at the door; lone-working visits not checked out will use
-- the same table. Kinds, outcomes and the rest are validated by the alert
-- package, not by CHECK constraints, so new kinds need no table rebuild.
CREATE TABLE alerts (
    id {{ID}},
    kind TEXT NOT NULL,
    organisation_id BIGINT REFERENCES organisations (id),
    -- The team whose duty leads respond; NULL: every peer lead.
    team_id BIGINT REFERENCES teams (id),
    referral_id BIGINT REFERENCES referrals (id),
    person_id BIGINT REFERENCES people (id),
    -- What the alert is about, safe for email: a reference, never a name.
    reference TEXT NOT NULL DEFAULT '',
    -- Why, in codes (for possible risk: the categories matched), never the words written.
    detail TEXT NOT NULL DEFAULT '',
    raised_at {{TIMESTAMP}} NOT NULL,
    raised_by_user_id BIGINT REFERENCES users (id),
    due_at {{TIMESTAMP}} NOT NULL,
    escalated_at {{TIMESTAMP}},
    resolved_at {{TIMESTAMP}},
    resolved_by_user_id BIGINT REFERENCES users (id),
    outcome TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX alerts_due ON alerts (due_at) WHERE resolved_at IS NULL AND escalated_at IS NULL;
CREATE INDEX alerts_open_team ON alerts (team_id, raised_at) WHERE resolved_at IS NULL;
CREATE INDEX alerts_referral ON alerts (referral_id);
CREATE INDEX alerts_person ON alerts (person_id);
-- One open alert of a kind per referral: a second risky message about the
-- same referral joins the alert already waiting for a response.
CREATE UNIQUE INDEX alerts_one_open ON alerts (kind, referral_id) WHERE resolved_at IS NULL;

-- Each organisation's time to respond and working hours. No row: 4 working
-- hours, Monday to Friday 09:00–17:00 Europe/London.
CREATE TABLE alert_settings (
    organisation_id BIGINT PRIMARY KEY REFERENCES organisations (id),
    respond_minutes INTEGER NOT NULL,
    work_days TEXT NOT NULL,
    day_start_minute INTEGER NOT NULL,
    day_end_minute INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL,
    updated_by_user_id BIGINT REFERENCES users (id)
);
