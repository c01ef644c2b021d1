-- The home page counts each team's waiting list and the part of it past
-- the waiting standard on every view: a covering index answers both from
-- the index alone.
DROP INDEX referrals_team_status;
CREATE INDEX referrals_team_waiting ON referrals (team_id, status, first_contact_at, received_at);
