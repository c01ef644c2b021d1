-- "I'd like 1:1 peer support" asked from the community: the referral it
-- made, so the service can count referrals that started in the community.
CREATE TABLE community_support_requests (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    created_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX community_support_requests_user ON community_support_requests (user_id);
