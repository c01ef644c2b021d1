-- Urgency and possible risk at the door (#10).
--
-- Every referral has an urgency, following the NHS community mental health
-- waiting standards: routine (4 weeks), urgent (24 hours), very urgent (4
-- hours). Existing referrals are routine. Insight splits the waiting list by
-- it, so it is a plain indexed column.
--
-- risk_flagged_at is when text written into the referral (or added to it by
-- a later referral for the same person) matched the organisation's watched
-- risk language: the referral is marked "possible risk". Whether someone
-- has yet recorded what they did about it is the alert's (alerts table).
--
-- No CHECK on urgency: SQLite cannot change a CHECK later without rebuilding
-- the table; the referral package validates it.
ALTER TABLE referrals ADD COLUMN urgency TEXT NOT NULL DEFAULT 'routine';
ALTER TABLE referrals ADD COLUMN risk_flagged_at {{TIMESTAMP}};
CREATE INDEX referrals_urgency_waiting ON referrals (urgency, status, first_contact_at, received_at);
