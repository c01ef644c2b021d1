-- Data rights: every subject access copy of a person's data made by staff,
-- with the reason, kept with the person (and shown in their own copy) and
-- forgotten with them. A person's own downloads are in the audit trail.
CREATE TABLE data_requests (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL CHECK (kind IN ('subject_access')),
    by_user_id BIGINT REFERENCES users (id),
    reason TEXT NOT NULL DEFAULT '',
    at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX data_requests_person ON data_requests (person_id, id);

-- The retention job looks first at people whose own record has not changed
-- for the retention period, then asks every capability when it last
-- recorded anything about each of them.
CREATE INDEX people_updated ON people (updated_at);
