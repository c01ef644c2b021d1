-- Equity and offer coverage over large caseloads (#9). Both count people
-- on caseload: equity, those on it at any time in a period; coverage, those
-- on it on a day, and those of them told about peer support in the year
-- before. Counting those from the episodes reads every episode of the
-- period (a second or more at a million episodes).
--
-- Instead each person's episodes are merged into spans: time on any
-- caseload ('person'), in each setting ('setting', unit = the setting), in
-- each team ('team', unit = the team's id), and the parts of the first and
-- the team spans in the year after an offer ('told', 'told_team'), and the
-- days the person was referred to peer support ('referred'; 'started' for
-- referrals that went on to a first contact) while on caseload, and in each
-- setting ('referred_setting', 'started_setting'), with those days spent off
-- it kept apart ('…_off'): a person referred in a period while on caseload
-- is referred and on caseload in it; one referred only while off it is
-- checked against their caseload spans one by one (there are few). Each
-- span carries the end of the person's previous span of the same kind and
-- unit, and the person's characteristics as counted. A person is then on
-- caseload on day d when one of their spans started by d and had not ended
-- before it, and on caseload in a period [F, T] once for each span that
-- overlaps it less the gaps between two of them inside it (a previous end
-- on or after F, a start on or before T).
CREATE TABLE caseload_spans (
    person_id BIGINT NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL CHECK (kind IN ('person', 'setting', 'team', 'told', 'told_team', 'referred', 'referred_off', 'started',
        'started_off', 'referred_setting', 'referred_setting_off', 'started_setting', 'started_setting_off')),
    unit TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE,
    prev_end DATE,
    birth_year INTEGER,
    gender TEXT NOT NULL DEFAULT '',
    ethnicity TEXT NOT NULL DEFAULT '',
    disability TEXT NOT NULL DEFAULT '',
    first_language TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, kind, unit, start_date)
);
-- The edges of a period: spans starting, or ending, in a part-month.
CREATE INDEX caseload_spans_start ON caseload_spans (kind, start_date);
CREATE INDEX caseload_spans_end ON caseload_spans (kind, end_date);
-- Gaps inside a period, by the previous span's end.
CREATE INDEX caseload_spans_gap ON caseload_spans (kind, prev_end, start_date) WHERE prev_end IS NOT NULL;

-- Per month, how many spans started and ended, by group: for 'person'
-- spans by each characteristic ('age' by birth year, 'gender', 'ethnicity',
-- 'disability', 'language', and 'all'), for the others by unit.
CREATE TABLE caseload_span_counts (
    kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    month INTEGER NOT NULL,
    starts INTEGER NOT NULL DEFAULT 0,
    ends INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, grp, month)
);

-- The gaps between a person's spans, by the months of the previous span's
-- end and of the next span's start, and by group as above: a period's gaps
-- are those whose previous end is in or after its first month and whose
-- start is in or before its last, less the part-months at the edges.
CREATE TABLE caseload_gap_counts (
    kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    prev_month INTEGER NOT NULL,
    start_month INTEGER NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    -- Months first: a period reads the rows whose previous end falls in
    -- it, whatever the group (read by group, a million episodes' worth of
    -- rows was read to sum a year's).
    PRIMARY KEY (prev_month, start_month, kind, grp)
);

-- Existing episodes are counted into the spans by the next rebuild.
UPDATE caseload_rollup_state SET built = FALSE WHERE id = 1;

-- The spans and their counts are built apart from the roll-up, by the
-- background job, so a large import is not held up by them; until they are,
-- equity and coverage count from the episodes. The job builds them a few
-- thousand people at a time, each batch its own transaction, so writers are
-- never held up for long: spans_upto is the last person id built, and the
-- spans of people up to it are kept up to date as they change.
ALTER TABLE caseload_rollup_state ADD COLUMN spans_built BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE caseload_rollup_state ADD COLUMN spans_upto BIGINT NOT NULL DEFAULT 0;
