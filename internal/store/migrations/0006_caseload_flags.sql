-- Whether each referral and offer was made while the person was on the
-- maker's caseload (as a co-ordinator, and as a team). Insight counts
-- these per period without checking every event against the episodes.
ALTER TABLE referrals ADD COLUMN on_caseload_coordinator BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE referrals ADD COLUMN on_caseload_team BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE offers ADD COLUMN on_caseload_coordinator BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE offers ADD COLUMN on_caseload_team BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX referrals_caseload_events ON referrals (received_at, referrer_user_id, referrer_team_id, person_id, on_caseload_coordinator, on_caseload_team);
CREATE INDEX offers_caseload_events ON offers (at, recorded_by_user_id, team_id, person_id, on_caseload_coordinator, on_caseload_team);
-- Existing rows are flagged at the next roll-up build.
UPDATE caseload_rollup_state SET built = FALSE WHERE id = 1;
