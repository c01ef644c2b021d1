-- One open referral per person, held by the database: two requests made at
-- the same moment (on any number of instances) cannot both open one. The
-- services check first and add a second request to the open referral's
-- history; this index makes the loser of a race fail instead of slipping
-- through. A database that already holds two open referrals for one person
-- stops here: close one of them (withdraw it, with a reason) and migrate
-- again.
CREATE UNIQUE INDEX referrals_one_open ON referrals (person_id)
    WHERE status IN ('received', 'accepted', 'allocated', 'active');
