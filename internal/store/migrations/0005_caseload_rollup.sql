-- Insight over large caseloads. Counting the people on each co-ordinator's
-- caseload in a period by scanning every episode takes seconds at a
-- million episodes; instead, monthly counts of episode starts and ends per
-- co-ordinator and team are kept alongside the episodes, and a period's
-- count is a difference of running totals plus the two part-months at its
-- edges. Episodes that share a person with another episode of the same
-- co-ordinator (or team) are flagged, so a person is still counted once.
ALTER TABLE caseload_episodes ADD COLUMN dup_coordinator BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE caseload_episodes ADD COLUMN dup_team BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE caseload_rollup (
    kind TEXT NOT NULL CHECK (kind IN ('coordinator', 'team')),
    unit TEXT NOT NULL,
    team_id BIGINT NOT NULL,
    month INTEGER NOT NULL,
    starts INTEGER NOT NULL DEFAULT 0,
    ends INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, unit, team_id, month)
);

CREATE INDEX caseload_start ON caseload_episodes (start_date);
-- Episodes overlapping a period are the open ones plus those ending after
-- it starts: two ranges of this index, which covers the per-person views.
CREATE INDEX caseload_end ON caseload_episodes (end_date, start_date, person_id, team_id, setting);
-- The flagged episodes overlapping a period are found by their end date
-- (open, or ending after the period starts) without reading the others.
CREATE INDEX caseload_dup_coordinator ON caseload_episodes (end_date, start_date, coordinator_email, person_id) WHERE dup_coordinator;
CREATE INDEX caseload_dup_team ON caseload_episodes (end_date, start_date, team_id, person_id) WHERE dup_team;

-- Probes "was this person on this co-ordinator's (team's) caseload in the
-- period" and the per-person scans read these indexes alone.
DROP INDEX caseload_coordinator;
CREATE INDEX caseload_coordinator ON caseload_episodes (coordinator_email, person_id, start_date, end_date);
DROP INDEX caseload_team;
CREATE INDEX caseload_team ON caseload_episodes (team_id, person_id, start_date, end_date);
DROP INDEX caseload_person;
CREATE INDEX caseload_person ON caseload_episodes (person_id, start_date, end_date, team_id);

-- Whether the roll-up reflects every episode. Existing episodes are rolled
-- up on first use; bulk loads that write episodes directly reset it.
CREATE TABLE caseload_rollup_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    built BOOLEAN NOT NULL
);
INSERT INTO caseload_rollup_state (id, built) VALUES (1, FALSE);
