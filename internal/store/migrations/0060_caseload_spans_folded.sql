-- A person's team span and setting span are nearly always the same days as
-- their span on caseload: most people are in one team and one setting. The
-- spans were stored a row each, three rows (and three entries in each of the
-- spans' indexes) where one would do, and writing them was a third of a
-- large import (#9). From now on a span that coincides with one of the
-- person's spans of its base kind (the same start, end and previous end) is
-- kept in the base span's row: team_unit holds the team of a team span
-- folded into a person span (a told_team span into a told span),
-- setting_unit the setting of a setting span folded into a person span (a
-- referred_setting span into a referred span, started_setting into
-- started). NULL: nothing folded (a setting of '' is a setting). Spans
-- already held stay a row each, which readers count as before, until the
-- person's spans are next recounted (caseload.fold).
ALTER TABLE caseload_spans ADD COLUMN team_unit TEXT;
ALTER TABLE caseload_spans ADD COLUMN setting_unit TEXT;
-- On SQLite the spans' indexes hold every column the counts group by
-- (migration 0058), now these two as well.
-- sqlite only
DROP INDEX caseload_spans_start;
DROP INDEX caseload_spans_end;
DROP INDEX caseload_spans_gap;
CREATE INDEX caseload_spans_start ON caseload_spans (kind, start_date, unit, birth_year, gender, ethnicity, disability, first_language,
    team_unit, setting_unit);
CREATE INDEX caseload_spans_end ON caseload_spans (kind, end_date, unit, birth_year, gender, ethnicity, disability, first_language,
    team_unit, setting_unit);
CREATE INDEX caseload_spans_gap ON caseload_spans (kind, prev_end, start_date, unit, birth_year, gender, ethnicity, disability, first_language,
    team_unit, setting_unit) WHERE prev_end IS NOT NULL;
-- end
