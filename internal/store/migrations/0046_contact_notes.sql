-- Notes the person can read (#12). A contact's note is written to be read
-- by the person. Editing it keeps every earlier text (contact_note_versions:
-- a row per text replaced, with who wrote it and when); a contact recorded
-- by mistake is never deleted but marked entered in error with a reason,
-- and is then left out of every count. The person may comment on a contact
-- or ask for a correction (contact_comments); a correction request is
-- answered once, corrected (by a new version of the note) or declined with
-- a reason. A restricted note (safeguarding, risk) is kept apart from the
-- note the person reads (contact_restricted_notes, append-only), with the
-- reason it is restricted; the person is told one exists unless a
-- clinician records why not (withheld_*).
ALTER TABLE contacts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE contacts ADD COLUMN edited_by_user_id BIGINT REFERENCES users (id);
ALTER TABLE contacts ADD COLUMN edited_at {{TIMESTAMP}};
ALTER TABLE contacts ADD COLUMN error_by_user_id BIGINT REFERENCES users (id);
ALTER TABLE contacts ADD COLUMN error_at {{TIMESTAMP}};
ALTER TABLE contacts ADD COLUMN error_reason TEXT NOT NULL DEFAULT '';

CREATE TABLE contact_note_versions (
    id {{ID}},
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    version INTEGER NOT NULL,
    note TEXT NOT NULL,
    written_by_user_id BIGINT NOT NULL REFERENCES users (id),
    written_at {{TIMESTAMP}} NOT NULL,
    UNIQUE (contact_id, version)
);

CREATE TABLE contact_comments (
    id {{ID}},
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    author_user_id BIGINT NOT NULL REFERENCES users (id),
    by_person BOOLEAN NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('comment', 'correction')),
    body TEXT NOT NULL,
    at {{TIMESTAMP}} NOT NULL,
    answer TEXT NOT NULL DEFAULT '' CHECK (answer IN ('', 'corrected', 'declined')),
    answer_reason TEXT NOT NULL DEFAULT '',
    answered_by_user_id BIGINT REFERENCES users (id),
    answered_at {{TIMESTAMP}}
);
CREATE INDEX contact_comments_contact ON contact_comments (contact_id, id);

CREATE TABLE contact_restricted_notes (
    id {{ID}},
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    note TEXT NOT NULL,
    reason TEXT NOT NULL,
    written_by_user_id BIGINT NOT NULL REFERENCES users (id),
    written_at {{TIMESTAMP}} NOT NULL,
    withheld_reason TEXT NOT NULL DEFAULT '',
    withheld_by_user_id BIGINT REFERENCES users (id),
    withheld_at {{TIMESTAMP}}
);
CREATE INDEX contact_restricted_notes_contact ON contact_restricted_notes (contact_id, id);
