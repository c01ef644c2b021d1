-- People can claim the record staff made for them. Besides the link a
-- self-referral's confirmation carries, a claim can now be an invitation
-- sent by staff to the email address on the record, a short code printed
-- for someone without email, or a code sent to the contact details on the
-- record when someone who signed up on their own asks to find it. A code
-- sent that way works only for the account that asked for it.
ALTER TABLE person_claims ADD COLUMN kind TEXT NOT NULL DEFAULT 'self_referral';
ALTER TABLE person_claims ADD COLUMN created_by_user_id BIGINT REFERENCES users (id);
ALTER TABLE person_claims ADD COLUMN for_user_id BIGINT REFERENCES users (id);
ALTER TABLE person_claims ADD COLUMN used_by_user_id BIGINT REFERENCES users (id);

-- Every change to a person's contact details and how they want to be
-- contacted, field by field: who changed it, in which role, and what it was
-- before. Kept with the person and forgotten with them.
CREATE TABLE person_changes (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    at {{TIMESTAMP}} NOT NULL,
    changed_by_user_id BIGINT REFERENCES users (id),
    actor_role TEXT NOT NULL DEFAULT '',
    field TEXT NOT NULL,
    old_value TEXT NOT NULL DEFAULT '',
    new_value TEXT NOT NULL DEFAULT ''
);
CREATE INDEX person_changes_person ON person_changes (person_id, id);
