-- Waiting times (#9) count each referral received in the period by three of
-- its person's characteristics. Joining the period's referrals to the people
-- cost a lookup per referral on SQLite and, on PostgreSQL, a hash of every
-- person: at a million episodes and 300,000 referrals the view took about
-- 300 ms on both engines. Each referral now carries a copy of the three, kept
-- by the database itself so that no writer has to remember them: a referral
-- takes its person's when it is made or moved to another person, and a change
-- to a person's characteristics is copied to their referrals in the same
-- statement. The waiting index holds the copies, so the view reads one index
-- and nothing else.

-- postgres only
-- No one changes a person's characteristics between the copy below and the
-- trigger that keeps it (an instance of the release before, say). The lock
-- is the strongest at once because dropping people_traits_cover below needs
-- it: taking a weaker one first and that later could deadlock with a reader
-- of people and then referrals. SQLite's migration holds the one write lock
-- throughout.
LOCK TABLE people IN ACCESS EXCLUSIVE MODE;
-- end
DROP INDEX referrals_waiting_cover;
ALTER TABLE referrals ADD COLUMN person_birth_year INTEGER;
ALTER TABLE referrals ADD COLUMN person_gender TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN person_ethnicity TEXT NOT NULL DEFAULT '';

-- sqlite only
UPDATE referrals SET (person_birth_year, person_gender, person_ethnicity) =
    (SELECT birth_year, gender, ethnicity FROM people WHERE people.id = referrals.person_id);

CREATE TRIGGER referrals_person_traits_made AFTER INSERT ON referrals
BEGIN
    UPDATE referrals SET (person_birth_year, person_gender, person_ethnicity) =
        (SELECT birth_year, gender, ethnicity FROM people WHERE people.id = NEW.person_id)
    WHERE id = NEW.id;
END;
CREATE TRIGGER referrals_person_traits_moved AFTER UPDATE OF person_id ON referrals
BEGIN
    UPDATE referrals SET (person_birth_year, person_gender, person_ethnicity) =
        (SELECT birth_year, gender, ethnicity FROM people WHERE people.id = NEW.person_id)
    WHERE id = NEW.id;
END;
CREATE TRIGGER people_traits_to_referrals AFTER UPDATE OF birth_year, gender, ethnicity ON people
WHEN NEW.birth_year IS NOT OLD.birth_year OR NEW.gender IS NOT OLD.gender OR NEW.ethnicity IS NOT OLD.ethnicity
BEGIN
    UPDATE referrals SET person_birth_year = NEW.birth_year, person_gender = NEW.gender, person_ethnicity = NEW.ethnicity
    WHERE person_id = NEW.id;
END;
-- end

-- postgres only
UPDATE referrals r SET person_birth_year = p.birth_year, person_gender = p.gender, person_ethnicity = p.ethnicity
FROM people p WHERE p.id = r.person_id;

-- The person's row is locked as their characteristics are read: an import
-- changing them at the same moment either finishes first (and this reads
-- what it wrote) or waits for this referral to commit (and its trigger
-- below then finds the referral). Writers that make or move a referral lock
-- the person's row anyway, a moment later, to recount their caseload spans.
CREATE FUNCTION referrals_person_traits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT birth_year, gender, ethnicity INTO NEW.person_birth_year, NEW.person_gender, NEW.person_ethnicity
    FROM people WHERE id = NEW.person_id FOR NO KEY UPDATE;
    RETURN NEW;
END;
$$;
CREATE TRIGGER referrals_person_traits BEFORE INSERT OR UPDATE OF person_id ON referrals
FOR EACH ROW EXECUTE FUNCTION referrals_person_traits();

CREATE FUNCTION people_traits_to_referrals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE referrals SET person_birth_year = NEW.birth_year, person_gender = NEW.gender, person_ethnicity = NEW.ethnicity
    WHERE person_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER people_traits_to_referrals AFTER UPDATE OF birth_year, gender, ethnicity ON people
FOR EACH ROW WHEN (NEW.birth_year IS DISTINCT FROM OLD.birth_year OR NEW.gender IS DISTINCT FROM OLD.gender
    OR NEW.ethnicity IS DISTINCT FROM OLD.ethnicity)
EXECUTE FUNCTION people_traits_to_referrals();

-- The view no longer joins the people: their covering index (0059) has no
-- reader left.
DROP INDEX people_traits_cover;
-- end

CREATE INDEX referrals_waiting_cover ON referrals (received_at, status, first_contact_at, team_id, source, urgency,
    person_ethnicity, person_birth_year, person_gender, person_id);
