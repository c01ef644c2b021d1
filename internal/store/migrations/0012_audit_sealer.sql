-- The audit chain is sealed after the fact. Writers append audit rows with a
-- plain INSERT (the id comes from the table) and never wait for one another;
-- a sealer then gives each row, in the order they become visible, its place
-- in the chain (seq), its predecessor's hash (prev_hash) and its own hash.
--
-- An unsealed row has seq NULL and prev_hash = hash = ''. (SQLite cannot drop
-- NOT NULL from a column without copying the whole trail, so the empty string
-- stands for "not yet" in the two hash columns; seq alone says whether a row
-- is sealed.) written_at is the writing instance's own clock, so that rows
-- left unsealed too long can be found whatever clock the service was given.
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN written_at {{TIMESTAMP}};

-- Rows written before now were chained in id order under a lock, and their
-- hashes begin with the id: as seq = id they verify unchanged. The guard
-- against updates is dropped for this one statement and replaced below.
-- sqlite only
DROP TRIGGER audit_no_update;
-- end
-- postgres only
DROP TRIGGER audit_no_change ON audit_events;
-- end
UPDATE audit_events SET seq = id;

CREATE UNIQUE INDEX audit_seq ON audit_events (seq);
-- The sealer's queue: only unsealed rows are in it, so it stays small.
CREATE INDEX audit_unsealed ON audit_events (id) WHERE seq IS NULL;

-- postgres only
-- Rows used to be inserted with explicit ids, which leaves the identity
-- sequence behind: start it after the newest row.
SELECT setval(pg_get_serial_sequence('audit_events', 'id'), COALESCE((SELECT MAX(id) FROM audit_events), 0) + 1, false);
-- end

-- The trail stays append-only. The one change allowed is the sealer's: a row
-- with no seq gets its seq, prev_hash and hash, once, with every other column
-- unchanged. A row must arrive unsealed, so a seal cannot be written by
-- whoever inserts the row.
-- sqlite only
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND OLD.prev_hash = '' AND OLD.hash = '' AND length(NEW.hash) = 64
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.request_id IS OLD.request_id
    AND NEW.actor_user_id IS OLD.actor_user_id AND NEW.actor_role IS OLD.actor_role
    AND NEW.actor_team_id IS OLD.actor_team_id AND NEW.action IS OLD.action
    AND NEW.subject_person_id IS OLD.subject_person_id AND NEW.object_type IS OLD.object_type
    AND NEW.object_id IS OLD.object_id AND NEW.outcome IS OLD.outcome AND NEW.subjects IS OLD.subjects
    AND NEW.written_at IS OLD.written_at)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: only the sealer fills in seq, prev_hash and hash, once'); END;
CREATE TRIGGER audit_insert_unsealed BEFORE INSERT ON audit_events
WHEN NEW.seq IS NOT NULL OR NEW.prev_hash <> '' OR NEW.hash <> ''
BEGIN SELECT RAISE(ABORT, 'audit rows are written unsealed: the sealer chains them'); END;
-- end
-- postgres only
CREATE FUNCTION audit_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Every column but the three the sealer fills in, compared as a whole
    -- row, so a column added later is guarded without changing this.
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND OLD.prev_hash = '' AND OLD.hash = ''
        AND length(NEW.hash) = 64
        AND to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash' = to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: only the sealer fills in seq, prev_hash and hash, once';
END;
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_seal_only();

CREATE FUNCTION audit_insert_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NOT NULL OR NEW.prev_hash <> '' OR NEW.hash <> '' THEN
        RAISE EXCEPTION 'audit rows are written unsealed: the sealer chains them';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_insert_unsealed BEFORE INSERT ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_insert_unsealed();

-- TRUNCATE fires no row triggers: refuse it too.
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_subjects_no_truncate BEFORE TRUNCATE ON audit_subjects
FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
-- end
