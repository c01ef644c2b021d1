-- Transitions (#12): prompts to a person's peer worker raised from the
-- trust's record by a background job. A ward admission (a caseload episode
-- in an acute ward) prompts an in-reach visit; its discharge (the episode's
-- end) a follow-up within the organisation's discharge_follow_up_days (7
-- unless set); a young person on a CAMHS transition caseload turning 17 a
-- transition plan with the adult team. One prompt per kind and episode (the
-- unique constraint), so several instances running the job raise it once.
CREATE TABLE transition_prompts (
    id {{ID}},
    kind TEXT NOT NULL CHECK (kind IN ('in_reach', 'discharge_follow_up', 'camhs_transition')),
    -- The episode and referral by id only (no foreign key), so forgetting a
    -- person needs no order between holders; support.Holder forgets these.
    episode_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES people (id),
    referral_id BIGINT NOT NULL,
    team_id BIGINT REFERENCES teams (id),
    worker_user_id BIGINT NOT NULL REFERENCES users (id),
    due_at {{TIMESTAMP}} NOT NULL,
    raised_at {{TIMESTAMP}} NOT NULL,
    UNIQUE (kind, episode_id)
);
CREATE INDEX transition_prompts_worker ON transition_prompts (worker_user_id, due_at);
CREATE INDEX transition_prompts_person ON transition_prompts (person_id);
ALTER TABLE support_settings ADD COLUMN discharge_follow_up_days INTEGER NOT NULL DEFAULT 7;
