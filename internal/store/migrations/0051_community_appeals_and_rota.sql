-- Appeals, and the moderators' duty rota. A member's appeal against a sanction, once per sanction, in their own
-- words; a peer lead (never the moderator who applied it) upholds or
-- overturns it with a reason, once (the conditional update on status);
-- overturning lifts the sanction.
CREATE TABLE community_appeals (
    id {{ID}},
    sanction_id BIGINT NOT NULL UNIQUE REFERENCES community_sanctions (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    words TEXT NOT NULL,
    created_at {{TIMESTAMP}} NOT NULL,
    status TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'upheld', 'overturned')),
    decided_by_user_id BIGINT REFERENCES users (id),
    decided_at {{TIMESTAMP}},
    decision_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX community_appeals_status ON community_appeals (status, created_at);

-- The moderators' duty rota, per organisation: who is on duty from when to
-- when. The space pages say when nobody is, and when someone next will be.
CREATE TABLE community_duty (
    id {{ID}},
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    starts_at {{TIMESTAMP}} NOT NULL,
    ends_at {{TIMESTAMP}} NOT NULL,
    created_by_user_id BIGINT NOT NULL REFERENCES users (id),
    created_at {{TIMESTAMP}} NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX community_duty_ends ON community_duty (ends_at, starts_at);
