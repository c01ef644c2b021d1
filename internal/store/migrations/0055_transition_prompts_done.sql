-- Transition prompts marked done by hand (#12): a transition plan agreed
-- with the adult team, an in-reach visit made on the ward or a follow-up
-- that happened outside Mutual is not a contact the job can see, so the
-- worker marks the prompt done and says in a few words what was done. A
-- CAMHS transition plan is done only this way: a contact alone is not a
-- plan.
ALTER TABLE transition_prompts ADD COLUMN done_at {{TIMESTAMP}};
ALTER TABLE transition_prompts ADD COLUMN done_by_user_id BIGINT REFERENCES users (id);
ALTER TABLE transition_prompts ADD COLUMN done_note TEXT NOT NULL DEFAULT '';
