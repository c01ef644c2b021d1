-- Watched words and phrases per organisation (#10): risk language at the
-- door now, and what the moderated community will hold, replace or block
-- later. An organisation without a watch_lists row uses the default list
-- built into Mutual; its first change copies the defaults here, so what it
-- edits is its own list.
CREATE TABLE watch_lists (
    organisation_id BIGINT PRIMARY KEY REFERENCES organisations (id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL
);

CREATE TABLE watch_terms (
    id {{ID}},
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    phrase TEXT NOT NULL,
    -- The phrase as it is matched: tokens, case-folded, accents removed.
    normalised TEXT NOT NULL,
    category TEXT NOT NULL,
    action TEXT NOT NULL,
    created_at {{TIMESTAMP}} NOT NULL,
    created_by_user_id BIGINT REFERENCES users (id),
    UNIQUE (organisation_id, normalised)
);
