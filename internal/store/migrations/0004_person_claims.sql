-- Someone who asks for peer support without an account can later create
-- one and follow their request: the confirmation carries a one-time claim
-- that joins the new account to the person record the request made.
CREATE TABLE person_claims (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at {{TIMESTAMP}} NOT NULL,
    expires_at {{TIMESTAMP}} NOT NULL,
    used_at {{TIMESTAMP}}
);
CREATE INDEX person_claims_person ON person_claims (person_id);
