-- Private calendar feeds (#12): a worker or a person turns on a secret
-- address that calendar programs read; only its hash is kept. Renewing
-- revokes the old address; one live feed per account.
CREATE TABLE calendar_feeds (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at {{TIMESTAMP}} NOT NULL,
    revoked_at {{TIMESTAMP}}
);
CREATE UNIQUE INDEX calendar_feeds_one_live ON calendar_feeds (user_id) WHERE revoked_at IS NULL;
