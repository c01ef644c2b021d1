-- The support report over a million contacts (#12). Counting a year's
-- contacts per person straight from the contacts takes seconds, so the
-- referral package keeps, per referral, worker and calendar month (UTC),
-- how many contacts there were (not entered in error), their minutes, and
-- how many of each mode, setting and kind of support. The report sums the
-- whole months of its period from here and counts the part-months at its
-- edges from the contacts themselves (through contacts_at), then groups by
-- person, so the medians per person are exact. Team and person are read
-- from the referral when the report runs, so a transfer or a merge needs
-- no change here. One column per code: a new mode, setting or kind of
-- support needs a column (TestSupportRollupHasAColumnPerCode).
CREATE TABLE support_rollup (
    referral_id BIGINT NOT NULL,
    worker_user_id BIGINT NOT NULL,
    month INTEGER NOT NULL,
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
    PRIMARY KEY (referral_id, worker_user_id, month)
);
CREATE INDEX support_rollup_month ON support_rollup (month);

-- Whether the roll-up counts every contact: false until the background job
-- first builds it (existing contacts), and whenever a bulk load writes
-- contacts without it. While false the report counts from the contacts.
CREATE TABLE support_rollup_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    built BOOLEAN NOT NULL
);
INSERT INTO support_rollup_state (id, built) VALUES (1, FALSE);

-- The report's edges, endings and appointments by date.
CREATE INDEX contacts_at ON contacts (at);
CREATE INDEX referrals_closed ON referrals (closed_at);
CREATE INDEX appointments_starts ON appointments (starts_at, team_id, status);
