-- Goals in the person's own words, with small steps, who helps, an optional
-- target date (YYYY-MM-DD, or '') and progress. team_id is the team
-- supporting the person when the goal was set, for outcomes by team.
CREATE TABLE recovery_goals (
    id {{ID}},
    person_id BIGINT NOT NULL REFERENCES people (id),
    team_id BIGINT REFERENCES teams (id),
    version INTEGER NOT NULL DEFAULT 1,
    description TEXT NOT NULL,
    who_helps TEXT NOT NULL DEFAULT '',
    target_date TEXT NOT NULL DEFAULT '',
    progress TEXT NOT NULL CHECK (progress IN ('not_started', 'on_the_way', 'achieved', 'changed_mind')),
    drafted_with_worker BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{TIMESTAMP}} NOT NULL,
    created_by_user_id BIGINT REFERENCES users (id),
    updated_at {{TIMESTAMP}} NOT NULL,
    updated_by_user_id BIGINT REFERENCES users (id),
    achieved_at {{TIMESTAMP}}
);
CREATE INDEX recovery_goals_person ON recovery_goals (person_id, id);
CREATE INDEX recovery_goals_created ON recovery_goals (created_at);
CREATE INDEX recovery_goals_achieved ON recovery_goals (achieved_at);

CREATE TABLE recovery_goal_steps (
    goal_id BIGINT NOT NULL REFERENCES recovery_goals (id),
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (goal_id, position)
);
