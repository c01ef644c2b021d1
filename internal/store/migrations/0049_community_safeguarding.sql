-- Escalation without consent: a moderator who judges there is a risk to a
-- member on the caseload who has NOT agreed to their care team being told
-- records a safeguarding reason; the concern reaches the care team only
-- when a second person (a peer lead or clinician of the person's team, not
-- the moderator) confirms it, with their reason. The member is told when it
-- is sent. One waiting concern per post; a decision is taken once (the
-- conditional update on status).
CREATE TABLE community_safeguarding (
    id {{ID}},
    post_id BIGINT NOT NULL REFERENCES community_posts (id),
    subject_user_id BIGINT NOT NULL REFERENCES users (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    team_id BIGINT NOT NULL REFERENCES teams (id),
    reason TEXT NOT NULL,
    raised_by_user_id BIGINT NOT NULL REFERENCES users (id),
    raised_at {{TIMESTAMP}} NOT NULL,
    status TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'confirmed', 'declined')),
    decided_by_user_id BIGINT REFERENCES users (id),
    decided_role TEXT NOT NULL DEFAULT '',
    decided_at {{TIMESTAMP}},
    decision_reason TEXT NOT NULL DEFAULT '',
    alert_id BIGINT REFERENCES alerts (id)
);
CREATE UNIQUE INDEX community_safeguarding_waiting ON community_safeguarding (post_id) WHERE status = 'waiting';
CREATE INDEX community_safeguarding_team ON community_safeguarding (team_id, status);
CREATE INDEX community_safeguarding_person ON community_safeguarding (person_id);
