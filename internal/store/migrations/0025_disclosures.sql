-- A peer worker's lived-experience disclosures. Each item is the worker's
-- own words, with themes, an audience (nobody but the worker, their lead,
-- the people they support, their team, or their public profile) and a
-- separate consent to its themes being used for matching. Withdrawing an item
-- deletes it at once.
CREATE TABLE disclosures (
    id {{ID}},
    worker_user_id BIGINT NOT NULL REFERENCES users (id),
    text TEXT NOT NULL,
    themes TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('nobody', 'lead', 'supported', 'team', 'public')),
    for_matching BOOLEAN NOT NULL DEFAULT FALSE,
    version INTEGER NOT NULL,
    created_at {{TIMESTAMP}} NOT NULL,
    updated_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX disclosures_worker ON disclosures (worker_user_id);

-- Every time someone other than the worker was shown any of their
-- disclosures: who, in which role, which items, and when. The worker reads
-- this as "who has read my disclosures". items is a comma-separated list of
-- disclosure ids (an item withdrawn since stays listed by its id).
CREATE TABLE disclosure_reads (
    id {{ID}},
    worker_user_id BIGINT NOT NULL REFERENCES users (id),
    reader_user_id BIGINT REFERENCES users (id),
    reader_role TEXT NOT NULL,
    items TEXT NOT NULL,
    at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX disclosure_reads_worker ON disclosure_reads (worker_user_id, id);
