-- Feedback, "you said, we did": anyone may give it, with or without an
-- account, named or anonymous. It is tracked received → acknowledged →
-- considered → answered → changed, each step in feedback_events. What was
-- said, about whom, and who said it are kept as given: no one edits or
-- deletes them (the triggers below refuse it). The one change allowed is
-- forgetting, for retention: the words and the giver's details are cleared
-- together and forgotten_at is set.
--
-- The giver's details (giver_*) are seen only by peer leads and service
-- managers. feedback_links hold the hashes of the private links that let the
-- giver follow their feedback without an account: one when it is given, and
-- one more in each email that tells them of an answer.
CREATE TABLE feedback (
    id {{ID}},
    reference TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('received', 'acknowledged', 'considered', 'answered', 'changed')),
    version INTEGER NOT NULL DEFAULT 1,
    about TEXT NOT NULL CHECK (about IN ('worker', 'group', 'service')),
    about_user_id BIGINT REFERENCES users (id),
    about_name TEXT NOT NULL DEFAULT '',
    team_id BIGINT REFERENCES teams (id),
    body TEXT NOT NULL,
    may_quote BOOLEAN NOT NULL DEFAULT FALSE,
    anonymous BOOLEAN NOT NULL,
    giver_user_id BIGINT REFERENCES users (id),
    giver_person_id BIGINT REFERENCES people (id),
    giver_name TEXT NOT NULL DEFAULT '',
    giver_email TEXT NOT NULL DEFAULT '',
    giver_phone TEXT NOT NULL DEFAULT '',
    contact_ok BOOLEAN NOT NULL DEFAULT FALSE,
    concern BOOLEAN NOT NULL DEFAULT FALSE,
    received_at {{TIMESTAMP}} NOT NULL,
    acknowledged_at {{TIMESTAMP}},
    considered_at {{TIMESTAMP}},
    answered_at {{TIMESTAMP}},
    changed_at {{TIMESTAMP}},
    theme TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '',
    change_made TEXT NOT NULL DEFAULT '',
    public_summary TEXT NOT NULL DEFAULT '',
    publish BOOLEAN NOT NULL DEFAULT FALSE,
    quote BOOLEAN NOT NULL DEFAULT FALSE,
    shared_with_worker_at {{TIMESTAMP}},
    forgotten_at {{TIMESTAMP}}
);
CREATE INDEX feedback_team ON feedback (team_id, received_at);
CREATE INDEX feedback_received ON feedback (received_at);
CREATE INDEX feedback_about ON feedback (about_user_id);
CREATE INDEX feedback_giver_user ON feedback (giver_user_id);
CREATE INDEX feedback_giver_person ON feedback (giver_person_id);

CREATE TABLE feedback_links (
    token_hash TEXT PRIMARY KEY,
    feedback_id BIGINT NOT NULL REFERENCES feedback (id),
    created_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX feedback_links_feedback ON feedback_links (feedback_id);

CREATE TABLE feedback_events (
    id {{ID}},
    feedback_id BIGINT NOT NULL REFERENCES feedback (id),
    at {{TIMESTAMP}} NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    actor_role TEXT NOT NULL DEFAULT '',
    from_status TEXT NOT NULL DEFAULT '',
    to_status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX feedback_events_feedback ON feedback_events (feedback_id, id);

-- sqlite only
CREATE TRIGGER feedback_no_delete BEFORE DELETE ON feedback
BEGIN SELECT RAISE(ABORT, 'feedback is never deleted'); END;
CREATE TRIGGER feedback_kept_as_given BEFORE UPDATE ON feedback
WHEN NOT (NEW.body IS OLD.body AND NEW.about IS OLD.about AND NEW.about_user_id IS OLD.about_user_id
    AND NEW.about_name IS OLD.about_name AND NEW.received_at IS OLD.received_at AND NEW.reference IS OLD.reference
    AND NEW.anonymous IS OLD.anonymous AND NEW.may_quote IS OLD.may_quote AND NEW.contact_ok IS OLD.contact_ok
    AND NEW.giver_user_id IS OLD.giver_user_id AND NEW.giver_person_id IS OLD.giver_person_id
    AND NEW.giver_name IS OLD.giver_name AND NEW.giver_email IS OLD.giver_email AND NEW.giver_phone IS OLD.giver_phone)
AND NOT (OLD.forgotten_at IS NULL AND NEW.forgotten_at IS NOT NULL AND NEW.body = '' AND NEW.giver_name = ''
    AND NEW.giver_email = '' AND NEW.giver_phone = '' AND NEW.giver_user_id IS NULL AND NEW.giver_person_id IS NULL
    AND NEW.about IS OLD.about AND NEW.about_user_id IS OLD.about_user_id AND NEW.about_name IS OLD.about_name
    AND NEW.received_at IS OLD.received_at AND NEW.reference IS OLD.reference)
BEGIN SELECT RAISE(ABORT, 'feedback is kept as it was given: no one can edit it'); END;
CREATE TRIGGER feedback_events_no_update BEFORE UPDATE ON feedback_events
BEGIN SELECT RAISE(ABORT, 'feedback history is append-only'); END;
CREATE TRIGGER feedback_events_no_delete BEFORE DELETE ON feedback_events
BEGIN SELECT RAISE(ABORT, 'feedback history is append-only'); END;
-- end
-- postgres only
CREATE FUNCTION feedback_kept_as_given() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'feedback is never deleted';
    END IF;
    IF NEW.body IS NOT DISTINCT FROM OLD.body AND NEW.about IS NOT DISTINCT FROM OLD.about
        AND NEW.about_user_id IS NOT DISTINCT FROM OLD.about_user_id AND NEW.about_name IS NOT DISTINCT FROM OLD.about_name
        AND NEW.received_at IS NOT DISTINCT FROM OLD.received_at AND NEW.reference IS NOT DISTINCT FROM OLD.reference
        AND NEW.anonymous IS NOT DISTINCT FROM OLD.anonymous AND NEW.may_quote IS NOT DISTINCT FROM OLD.may_quote
        AND NEW.contact_ok IS NOT DISTINCT FROM OLD.contact_ok AND NEW.giver_user_id IS NOT DISTINCT FROM OLD.giver_user_id
        AND NEW.giver_person_id IS NOT DISTINCT FROM OLD.giver_person_id AND NEW.giver_name IS NOT DISTINCT FROM OLD.giver_name
        AND NEW.giver_email IS NOT DISTINCT FROM OLD.giver_email AND NEW.giver_phone IS NOT DISTINCT FROM OLD.giver_phone THEN
        RETURN NEW;
    END IF;
    IF OLD.forgotten_at IS NULL AND NEW.forgotten_at IS NOT NULL AND NEW.body = '' AND NEW.giver_name = ''
        AND NEW.giver_email = '' AND NEW.giver_phone = '' AND NEW.giver_user_id IS NULL AND NEW.giver_person_id IS NULL
        AND NEW.about IS NOT DISTINCT FROM OLD.about AND NEW.about_user_id IS NOT DISTINCT FROM OLD.about_user_id
        AND NEW.about_name IS NOT DISTINCT FROM OLD.about_name AND NEW.received_at IS NOT DISTINCT FROM OLD.received_at
        AND NEW.reference IS NOT DISTINCT FROM OLD.reference THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'feedback is kept as it was given: no one can edit it';
END;
$$;
CREATE TRIGGER feedback_kept_as_given BEFORE UPDATE OR DELETE ON feedback
FOR EACH ROW EXECUTE FUNCTION feedback_kept_as_given();

CREATE FUNCTION feedback_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'feedback history is append-only';
END;
$$;
CREATE TRIGGER feedback_events_append_only BEFORE UPDATE OR DELETE ON feedback_events
FOR EACH ROW EXECUTE FUNCTION feedback_events_append_only();
CREATE TRIGGER feedback_no_truncate BEFORE TRUNCATE ON feedback
FOR EACH STATEMENT EXECUTE FUNCTION feedback_events_append_only();
CREATE TRIGGER feedback_events_no_truncate BEFORE TRUNCATE ON feedback_events
FOR EACH STATEMENT EXECUTE FUNCTION feedback_events_append_only();
-- end
