-- Triage details (#10).
--
-- What a history event records: '' a move between statuses or a note,
-- 'urgency' a change of urgency, 'risk' words of possible risk found. The
-- referral package validates it.
ALTER TABLE referral_events ADD COLUMN kind TEXT NOT NULL DEFAULT '';

-- A new person's full name is checked against the names of people already
-- known (possible duplicates), whatever else was given: these let that be a
-- lookup rather than a scan of everyone.
CREATE INDEX people_lower_preferred_name ON people (LOWER(preferred_name));
CREATE INDEX people_lower_full_name ON people (LOWER(full_name));
