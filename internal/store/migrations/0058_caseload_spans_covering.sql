-- Equity and coverage count a period's edges from the spans that start,
-- end or follow a gap in a part-month, grouped by unit and by the person's
-- characteristics, and the rest from the monthly counts (#9). On SQLite a
-- count read each span's or count's row after finding it in an index. Now
-- the three span indexes hold the columns the counts group by, and the two
-- count tables are their primary key's tree (WITHOUT ROWID), so each is
-- read from one tree: at a million episodes, equity 230 → 80 ms and
-- coverage 115 → 40 ms (on a slow day for this machine). PostgreSQL gained
-- nothing measurable from the same indexes (INCLUDE) and keeps its own.
--
-- Only the spans counted by characteristic (person, referred, started, and
-- the referred and started days off caseload) keep the person's
-- characteristics from now on; the others are counted by their unit alone
-- (caseload.carriesTraits), and blank columns keep their index entries
-- small. On SQLite those already held are blanked here, before the indexes
-- are built; on PostgreSQL, where they cost nothing to read, a person's are
-- blanked when their spans are next recounted (the counts do not change).
-- sqlite only
DROP INDEX caseload_spans_start;
DROP INDEX caseload_spans_end;
DROP INDEX caseload_spans_gap;
UPDATE caseload_spans SET birth_year = NULL, gender = '', ethnicity = '', disability = '', first_language = ''
    WHERE kind NOT IN ('person', 'referred', 'started', 'referred_off', 'started_off');
CREATE INDEX caseload_spans_start ON caseload_spans (kind, start_date, unit, birth_year, gender, ethnicity, disability, first_language);
CREATE INDEX caseload_spans_end ON caseload_spans (kind, end_date, unit, birth_year, gender, ethnicity, disability, first_language);
CREATE INDEX caseload_spans_gap ON caseload_spans (kind, prev_end, start_date, unit, birth_year, gender, ethnicity, disability, first_language)
    WHERE prev_end IS NOT NULL;
CREATE TABLE caseload_span_counts_new (
    kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    month INTEGER NOT NULL,
    starts INTEGER NOT NULL DEFAULT 0,
    ends INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, grp, month)
) WITHOUT ROWID;
INSERT INTO caseload_span_counts_new (kind, grp, month, starts, ends) SELECT kind, grp, month, starts, ends FROM caseload_span_counts;
DROP TABLE caseload_span_counts;
ALTER TABLE caseload_span_counts_new RENAME TO caseload_span_counts;
CREATE TABLE caseload_gap_counts_new (
    kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    prev_month INTEGER NOT NULL,
    start_month INTEGER NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (prev_month, start_month, kind, grp)
) WITHOUT ROWID;
INSERT INTO caseload_gap_counts_new (kind, grp, prev_month, start_month, n) SELECT kind, grp, prev_month, start_month, n FROM caseload_gap_counts;
DROP TABLE caseload_gap_counts;
ALTER TABLE caseload_gap_counts_new RENAME TO caseload_gap_counts;
-- end
