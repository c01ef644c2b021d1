-- Searching people gathers the caller's scope as one set of ids: people
-- they added and referrals their teams made are read from an index rather
-- than by scanning every person and every referral.
CREATE INDEX people_created_by ON people (created_by_user_id);
CREATE INDEX referrals_referrer_team ON referrals (referrer_team_id);
