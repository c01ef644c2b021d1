-- The peer network: members propose activities, others show interest, and
-- a lead answers every proposal (taken up as an event, or why not).

CREATE TABLE network_proposals (
    id {{ID}},
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    proposed_by_user_id BIGINT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'taken_up', 'not_taken_up')),
    answer TEXT NOT NULL DEFAULT '',
    answered_by_user_id BIGINT REFERENCES users (id),
    answered_at {{TIMESTAMP}},
    group_id BIGINT REFERENCES peer_groups (id),
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX network_proposals_status ON network_proposals (status, created_at);
CREATE INDEX network_proposals_user ON network_proposals (proposed_by_user_id);

CREATE TABLE network_interest (
    proposal_id BIGINT NOT NULL REFERENCES network_proposals (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (proposal_id, user_id)
);
CREATE INDEX network_interest_user ON network_interest (user_id);
