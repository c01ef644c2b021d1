-- Consent that holds. The person can change who may follow their referral
-- (share_with_referrer) and whether it may be shared beyond the peer
-- support team (share_beyond_team) from their account; the time of the
-- last change is kept. A referral made without the person's agreement is
-- not taken on until a clinician or peer lead records why the team is going
-- ahead without it (or that the person has now agreed).
ALTER TABLE referrals ADD COLUMN sharing_changed_at {{TIMESTAMP}};
ALTER TABLE referrals ADD COLUMN proceed_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN proceed_by_user_id BIGINT REFERENCES users (id);
ALTER TABLE referrals ADD COLUMN proceed_at {{TIMESTAMP}};

-- Until now every staff, partner or community referrer could follow their
-- referral whatever the person said. From here, the referrer follows it
-- only with the person's agreement (share_with_referrer, asked on every
-- form about someone else). Referrals already made keep their referrer
-- where the person agreed to the referral.
UPDATE referrals SET share_with_referrer = (consent = 'given') WHERE source IN ('staff', 'partner', 'community');

-- One role at a time: an account that is both staff and someone who uses
-- services acts either at work or for their own support. A session (and an
-- API token, from the session that made it) says which; '' for accounts
-- with one kind of role.
ALTER TABLE sessions ADD COLUMN acting_as TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN acting_as TEXT NOT NULL DEFAULT '';
