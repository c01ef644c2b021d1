-- The support report over a million contacts (#12). Counting a year's
-- contacts per person straight from the contacts takes seconds, so the
-- referral package keeps two roll-ups beside them, each brought up to date
-- in the transaction that records a contact or marks it entered in error:
--
-- support_rollup: per referral, worker and calendar month (UTC), how many
-- contacts (not entered in error). The report nets a period's whole months
-- from here with its part-months counted from the contacts (contacts_at
-- covers that count), per referral and worker, then groups by person with
-- the person, team, first contact and end read from the referral as it is
-- then: distinct workers and people, and the medians per person, exact.
--
-- support_team_days: per team (0: none) and day (UTC), the contacts, their
-- minutes, and how many of each mode, setting and kind of support: the
-- report's totals for any whole days, the part-days at a period's ends
-- counted from the contacts. A referral moving team moves its counts. One
-- column per code: a new mode, setting or kind of support needs a column
-- (TestSupportRollupHasAColumnPerCode).
-- On SQLite the table is its primary key's tree (WITHOUT ROWID), so a
-- period's months are grouped by referral and worker in one ordered pass,
-- with no sort and no second lookup.
-- sqlite only
CREATE TABLE support_rollup (
    referral_id BIGINT NOT NULL,
    worker_user_id BIGINT NOT NULL,
    month INTEGER NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (referral_id, worker_user_id, month)
) WITHOUT ROWID;
-- end
-- postgres only
CREATE TABLE support_rollup (
    referral_id BIGINT NOT NULL,
    worker_user_id BIGINT NOT NULL,
    month INTEGER NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (referral_id, worker_user_id, month)
);
-- end

CREATE TABLE support_team_days (
    team_id BIGINT NOT NULL,
    day INTEGER NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    minutes BIGINT NOT NULL DEFAULT 0,
    mode_in_person INTEGER NOT NULL DEFAULT 0,
    mode_phone INTEGER NOT NULL DEFAULT 0,
    mode_video INTEGER NOT NULL DEFAULT 0,
    mode_text_email INTEGER NOT NULL DEFAULT 0,
    mode_group INTEGER NOT NULL DEFAULT 0,
    setting_community INTEGER NOT NULL DEFAULT 0,
    setting_acute_ward INTEGER NOT NULL DEFAULT 0,
    setting_secure_ward INTEGER NOT NULL DEFAULT 0,
    setting_crisis INTEGER NOT NULL DEFAULT 0,
    setting_camhs_transition INTEGER NOT NULL DEFAULT 0,
    setting_partner INTEGER NOT NULL DEFAULT 0,
    setting_peer_group INTEGER NOT NULL DEFAULT 0,
    setting_none INTEGER NOT NULL DEFAULT 0,
    type_emotional INTEGER NOT NULL DEFAULT 0,
    type_practical INTEGER NOT NULL DEFAULT 0,
    type_social INTEGER NOT NULL DEFAULT 0,
    type_care INTEGER NOT NULL DEFAULT 0,
    type_recovery INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, day)
);
CREATE INDEX support_team_days_day ON support_team_days (day);

-- Whether the roll-up counts every contact: false until the background job
-- first builds it (existing contacts), and whenever a bulk load writes
-- contacts without it. While false the report counts from the contacts.
CREATE TABLE support_rollup_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    built BOOLEAN NOT NULL
);
INSERT INTO support_rollup_state (id, built) VALUES (1, FALSE);

-- The report's edges, endings and appointments by date.
CREATE INDEX contacts_at ON contacts (at, referral_id, worker_user_id) WHERE error_at IS NULL;
CREATE INDEX referrals_closed ON referrals (closed_at);
CREATE INDEX appointments_starts ON appointments (starts_at, team_id, status);
