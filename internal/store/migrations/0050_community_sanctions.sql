-- Sanctions on a community member, each with a reason and (but for a
-- warning) an end: warning; held (every post waits for a moderator);
-- read_only (no posts or reactions; may still read and flag); suspended
-- (may not enter the spaces). A sanction is in force from starts_at until
-- ends_at (compared with the clock: nothing needs to end it) unless a
-- moderator lifts it early with a reason. It is applied under the member's
-- row lock, which every post and reaction takes too.
CREATE TABLE community_sanctions (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('warning', 'held', 'read_only', 'suspended')),
    reason TEXT NOT NULL,
    starts_at {{TIMESTAMP}} NOT NULL,
    ends_at {{TIMESTAMP}},
    created_by_user_id BIGINT NOT NULL REFERENCES users (id),
    lifted_at {{TIMESTAMP}},
    lifted_by_user_id BIGINT REFERENCES users (id),
    lift_reason TEXT NOT NULL DEFAULT '',
    CHECK (kind = 'warning' OR ends_at IS NOT NULL)
);
CREATE INDEX community_sanctions_user ON community_sanctions (user_id, lifted_at, ends_at);
