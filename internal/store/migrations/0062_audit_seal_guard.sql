-- The guard that keeps the audit trail append-only on PostgreSQL runs once
-- for every row the sealer seals. It compared the old and new rows by
-- turning each into JSON, which was half of the sealing statement's time (13
-- of 27 ms for 400 rows): sealing is a fifth of the database's work while
-- writes are heavy. It now compares the two rows' stored bytes directly
-- (*=), with the three columns the sealer fills in put back as they were
-- unsealed. Bytes, not each type's own "=": that would refuse every seal
-- once a column of a type with no equality (json) is added, and accept a
-- seal that rewrote a value to an "equal" one ('1 mon' as '30 days'). The
-- comparison is still of whole rows, so a column added later is guarded
-- without changing this. (SQLite's trigger compares named columns and is
-- unchanged.)

-- postgres only
CREATE OR REPLACE FUNCTION audit_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unsealed audit_events;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND OLD.prev_hash = '' AND OLD.hash = ''
        AND length(NEW.hash) = 64 THEN
        -- *= compares each column's stored bytes, two NULLs as equal.
        unsealed := NEW;
        unsealed.seq := NULL;
        unsealed.prev_hash := '';
        unsealed.hash := '';
        IF unsealed *= OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: only the sealer fills in seq, prev_hash and hash, once';
END;
$$;
-- end
