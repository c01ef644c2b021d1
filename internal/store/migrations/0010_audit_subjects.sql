-- Lists, searches and notifications show many people at once. Each person
-- shown must find it in "who has seen my record", so an audit row names
-- every person it showed: in its own subjects column (covered by the row's
-- hash) and, for looking up by person, one row each in audit_subjects,
-- written with the audit row in one statement.
ALTER TABLE audit_events ADD COLUMN subjects TEXT NOT NULL DEFAULT '';

CREATE TABLE audit_subjects (
    person_id BIGINT NOT NULL,
    audit_id BIGINT NOT NULL,
    PRIMARY KEY (person_id, audit_id)
)
-- sqlite only
WITHOUT ROWID
-- end
;

-- sqlite only
CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;
CREATE TRIGGER audit_subjects_no_delete BEFORE DELETE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;
-- end
-- postgres only
CREATE TRIGGER audit_subjects_no_change BEFORE UPDATE OR DELETE ON audit_subjects
FOR EACH ROW EXECUTE FUNCTION audit_append_only();
-- end
