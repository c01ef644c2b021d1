-- Waiting times (#9) read every referral received in the period with its
-- status, first contact, team, door and urgency: this index holds all of
-- them, so the view reads the index alone and not each referral's row
-- (300 ms to 210 ms on SQLite for a year of 300,000 referrals).
CREATE INDEX referrals_waiting_cover ON referrals (received_at, status, first_contact_at, team_id, source, urgency, person_id);
