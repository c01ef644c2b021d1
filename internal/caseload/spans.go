package caseload

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/store"
)

// Caseload spans (migration 0057) let insight count people on caseload —
// on a day, or at any time in a period — without reading every episode.
// Each person's episodes are merged into spans: on any caseload
// (SpanPerson), in each setting (SpanSetting), in each team (SpanTeam),
// and the parts of the person and team spans within a year after an
// offer of peer support (SpanTold, SpanToldTeam). Every change to a
// person's episodes or offers recounts that person's spans in the same
// transaction (Recount), and caseload_span_counts keeps, per month and
// group, how many spans started and ended, so that
//
//	on caseload on day d   = spans started by d − spans ended before d
//	on caseload in [F, T]  = spans started by T − spans ended before F
//	                         − gaps inside [F, T] (a span whose previous
//	                           span ended on or after F, starting by T)
//
// each from running totals up to a month plus the part-month counted from
// the spans' indexes. A person is never counted twice: their spans of one
// kind and unit do not overlap.

// The kinds of span.
const (
	SpanPerson   = "person"
	SpanSetting  = "setting"
	SpanTeam     = "team"
	SpanTold     = "told"
	SpanToldTeam = "told_team"
	// Days a person on caseload was referred to peer support, while on
	// caseload (SpanReferred) and in each setting (SpanReferredSetting),
	// and the same for the referrals that went on to a first contact
	// (SpanStarted, SpanStartedSetting). The …Off kinds are the days they
	// were referred while off it (or out of the setting); they are not
	// counted by month but read one by one.
	SpanReferred           = "referred"
	SpanReferredOff        = "referred_off"
	SpanStarted            = "started"
	SpanStartedOff         = "started_off"
	SpanReferredSetting    = "referred_setting"
	SpanReferredSettingOff = "referred_setting_off"
	SpanStartedSetting     = "started_setting"
	SpanStartedSettingOff  = "started_setting_off"
)

// PersonGroupPrefix is the prefix of the counts' kinds for the spans
// counted by characteristic, as PersonGroupKinds: "" for SpanPerson,
// "referred:" and "started:" for SpanReferred and SpanStarted.
func PersonGroupPrefix(kind string) (string, bool) {
	switch kind {
	case SpanPerson:
		return "", true
	case SpanReferred, SpanStarted:
		return kind + ":", true
	}
	return "", false
}

// The groups a person span is counted in, in caseload_span_counts (kind):
// every span under "all", and by each characteristic, the group being the
// value as recorded ("" when not), birth year for age. Setting, team and
// told spans are counted by their kind, the group being their unit.
var PersonGroupKinds = []string{"all", "age", "gender", "ethnicity", "disability", "language"}

type traits struct {
	birthYear                               int
	gender, ethnicity, disability, language string
}

// group is the group a person span counts in for one of PersonGroupKinds.
func (d traits) group(kind string) string {
	switch kind {
	case "age":
		if d.birthYear == 0 {
			return ""
		}
		return strconv.Itoa(d.birthYear)
	case "gender":
		return d.gender
	case "ethnicity":
		return d.ethnicity
	case "disability":
		return d.disability
	case "language":
		return d.language
	}
	return ""
}

// span is one merged stretch of time; end is the zero time while open.
type span struct {
	kind, unit       string
	start, end, prev time.Time
	traits
}

// Folded returns the kinds of span a stored span of the kind also stands
// for when its team_unit (team) or setting_unit (setting) is set, "" for
// none: a span that coincides with one of the same person's spans of its
// base kind — the same start, end and previous end — is kept in the base
// span's row rather than a row of its own (migration 0060). Most people
// are in one team and one setting, so their person, team and setting spans
// are the same days.
func Folded(kind string) (team, setting string) {
	switch kind {
	case SpanPerson:
		return SpanTeam, SpanSetting
	case SpanTold:
		return SpanToldTeam, ""
	case SpanReferred:
		return "", SpanReferredSetting
	case SpanStarted:
		return "", SpanStartedSetting
	}
	return "", ""
}

// FoldBase is the kind of span one of the kind is folded into, if any.
func FoldBase(kind string) (string, bool) {
	if kind == "" {
		return "", false
	}
	for _, base := range []string{SpanPerson, SpanTold, SpanReferred, SpanStarted} {
		if team, setting := Folded(base); kind == team || kind == setting {
			return base, true
		}
	}
	return "", false
}

// spanRow is a row of caseload_spans: a span, and the team and setting
// spans folded into it (nil: none).
type spanRow struct {
	span
	team, setting *string
}

// fold stores one person's spans in as few rows as it can: each span of a
// kind that folds (Folded) goes into the first span of its base kind with
// the same days whose column for it is free, the rest a row each.
func fold(spans []span) []spanRow {
	type days struct {
		kind             string
		start, end, prev int64
	}
	rows := make([]spanRow, 0, len(spans))
	bases := map[days][]int{}
	for _, s := range spans {
		if team, setting := Folded(s.kind); team != "" || setting != "" {
			k := days{s.kind, s.start.Unix(), s.end.Unix(), s.prev.Unix()}
			bases[k] = append(bases[k], len(rows))
			rows = append(rows, spanRow{span: s})
		}
	}
	for _, s := range spans {
		if team, setting := Folded(s.kind); team != "" || setting != "" {
			continue // a base span: a row of its own, above
		}
		folded := false
		if base, ok := FoldBase(s.kind); ok {
			team, _ := Folded(base)
			for _, i := range bases[days{base, s.start.Unix(), s.end.Unix(), s.prev.Unix()}] {
				slot := &rows[i].setting
				if s.kind == team {
					slot = &rows[i].team
				}
				if *slot == nil {
					unit := s.unit
					*slot, folded = &unit, true
					break
				}
			}
		}
		if !folded {
			rows = append(rows, spanRow{span: s})
		}
	}
	return rows
}

// unfold is the spans a row stands for: its own, and those folded into it
// (without the person's characteristics, which they do not carry).
func (r spanRow) unfold() []span {
	out := []span{r.span}
	team, setting := Folded(r.kind)
	for _, f := range []struct {
		kind string
		unit *string
	}{{team, r.team}, {setting, r.setting}} {
		if f.unit != nil && f.kind != "" {
			s := r.span
			s.kind, s.unit = f.kind, *f.unit
			if !carriesTraits(f.kind) {
				s.traits = traits{}
			}
			out = append(out, s)
		}
	}
	return out
}

type spanKey struct {
	person     int64
	kind, unit string
	start      string
}

type countKey struct {
	kind, grp string
	month     int
}

type gapKey struct {
	kind, grp         string
	prevMonth, months int
}

// spanCounts gathers changes to caseload_span_counts and
// caseload_gap_counts.
type spanCounts struct {
	counts map[countKey][2]int
	gaps   map[gapKey]int
}

func newSpanCounts() spanCounts { return spanCounts{map[countKey][2]int{}, map[gapKey]int{}} }

func (c spanCounts) add(s span, sign int) {
	bump := func(kind, grp string) {
		k := countKey{kind, grp, yearMonth(s.start)}
		v := c.counts[k]
		v[0] += sign
		c.counts[k] = v
		if !s.end.IsZero() {
			k.month = yearMonth(s.end)
			v := c.counts[k]
			v[1] += sign
			c.counts[k] = v
		}
		if !s.prev.IsZero() {
			c.gaps[gapKey{kind, grp, yearMonth(s.prev), yearMonth(s.start)}] += sign
		}
	}
	if prefix, ok := PersonGroupPrefix(s.kind); ok {
		for _, kind := range PersonGroupKinds {
			bump(prefix+kind, s.group(kind))
		}
		return
	}
	if strings.HasSuffix(s.kind, "_off") {
		return
	}
	bump(s.kind, s.unit)
}

type interval struct{ start, end time.Time } // end zero: open

func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// merge sorts intervals and joins those that overlap or touch (the next
// starting on or before the day after one ends).
func merge(in []interval) []interval {
	slices.SortFunc(in, func(a, b interval) int { return a.start.Compare(b.start) })
	var out []interval
	for _, iv := range in {
		if n := len(out); n > 0 && (out[n-1].end.IsZero() || !iv.start.After(out[n-1].end.AddDate(0, 0, 1))) {
			if out[n-1].end.IsZero() || iv.end.IsZero() {
				out[n-1].end = time.Time{}
			} else if iv.end.After(out[n-1].end) {
				out[n-1].end = iv.end
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// subtract is the days of a (merged) outside b (merged).
func subtract(a, b []interval) []interval {
	var out []interval
	for _, x := range a {
		pieces := []interval{x}
		for _, y := range b {
			var next []interval
			for _, p := range pieces {
				// The part of p before y, and the part after it.
				if y.start.After(p.start) {
					before := interval{p.start, y.start.AddDate(0, 0, -1)}
					if !p.end.IsZero() && p.end.Before(before.end) {
						before.end = p.end
					}
					next = append(next, before)
				}
				if !y.end.IsZero() && (p.end.IsZero() || p.end.After(y.end)) {
					after := interval{y.end.AddDate(0, 0, 1), p.end}
					if after.start.Before(p.start) {
						after.start = p.start
					}
					next = append(next, after)
				}
			}
			pieces = next
		}
		out = append(out, pieces...)
	}
	return merge(out)
}

// intersect is the days in both sets of merged intervals.
func intersect(a, b []interval) []interval {
	var out []interval
	for _, x := range a {
		for _, y := range b {
			start := x.start
			if y.start.After(start) {
				start = y.start
			}
			var end time.Time
			switch {
			case x.end.IsZero():
				end = y.end
			case y.end.IsZero() || x.end.Before(y.end):
				end = x.end
			default:
				end = y.end
			}
			if end.IsZero() || !start.After(end) {
				out = append(out, interval{start, end})
			}
		}
	}
	return merge(out)
}

// CoverEnd is the last day an offer on day d counts as "told in the twelve
// months before": the last day m with m.AddDate(-1, 0, 0) on or before d
// (an offer on 29 February covers up to 28 February a year on).
func CoverEnd(d time.Time) time.Time {
	e := d.AddDate(1, 0, 0)
	for e.AddDate(-1, 0, 0).After(d) {
		e = e.AddDate(0, 0, -1)
	}
	return e
}

type personFacts struct {
	traits
	episodes  []episodeFact
	offers    []time.Time
	referrals []referralFact
}

type episodeFact struct {
	team       int64
	setting    string
	start, end time.Time
}

// referralFact is the day a referral was received, and whether it went on
// to a first contact.
type referralFact struct {
	day     time.Time
	started bool
}

// carriesTraits reports whether spans of the kind keep the person's
// characteristics: those counted by characteristic (PersonGroupPrefix) and
// the days referred while off caseload, read one by one into the same
// groups. The others are counted by their unit alone, and leaving the
// characteristics off keeps their rows and index entries small (migration
// 0058).
func carriesTraits(kind string) bool {
	_, ok := PersonGroupPrefix(kind)
	return ok || kind == SpanReferredOff || kind == SpanStartedOff
}

// spansOf works out one person's spans from their episodes and offers.
func spansOf(f *personFacts) []span {
	var out []span
	emit := func(kind, unit string, ivs []interval) {
		var t traits
		if carriesTraits(kind) {
			t = f.traits
		}
		var prev time.Time
		for _, iv := range ivs {
			out = append(out, span{kind: kind, unit: unit, start: iv.start, end: iv.end, prev: prev, traits: t})
			prev = iv.end
		}
	}
	var all []interval
	bySetting, byTeam := map[string][]interval{}, map[int64][]interval{}
	for _, e := range f.episodes {
		iv := interval{e.start, e.end}
		all = append(all, iv)
		bySetting[e.setting] = append(bySetting[e.setting], iv)
		byTeam[e.team] = append(byTeam[e.team], iv)
	}
	if len(all) == 0 {
		return nil
	}
	person := merge(all)
	emit(SpanPerson, "", person)
	for _, setting := range slices.Sorted(mapKeys(bySetting)) {
		emit(SpanSetting, setting, merge(bySetting[setting]))
	}
	var covers []interval
	for _, at := range f.offers {
		d := day(at)
		covers = append(covers, interval{d, CoverEnd(d)})
	}
	covers = merge(covers)
	if len(covers) > 0 {
		emit(SpanTold, "", intersect(person, covers))
	}
	var referred, started []interval
	for _, r := range f.referrals {
		referred = append(referred, interval{r.day, r.day})
		if r.started {
			started = append(started, interval{r.day, r.day})
		}
	}
	for _, days := range []struct {
		on, off, onSetting, offSetting string
		days                           []interval
	}{
		{SpanReferred, SpanReferredOff, SpanReferredSetting, SpanReferredSettingOff, merge(referred)},
		{SpanStarted, SpanStartedOff, SpanStartedSetting, SpanStartedSettingOff, merge(started)},
	} {
		if len(days.days) == 0 {
			continue
		}
		emit(days.on, "", intersect(days.days, person))
		emit(days.off, "", subtract(days.days, person))
		for _, setting := range slices.Sorted(mapKeys(bySetting)) {
			ivs := merge(bySetting[setting])
			emit(days.onSetting, setting, intersect(days.days, ivs))
			emit(days.offSetting, setting, subtract(days.days, ivs))
		}
	}
	for _, team := range slices.Sorted(mapKeys(byTeam)) {
		ivs := merge(byTeam[team])
		unit := strconv.FormatInt(team, 10)
		emit(SpanTeam, unit, ivs)
		if len(covers) > 0 {
			emit(SpanToldTeam, unit, intersect(ivs, covers))
		}
	}
	return out
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// SpansBuilt reports whether the spans count every episode and offer.
// While they do not, readers count from the episodes themselves.
func SpansBuilt(ctx context.Context, db *store.DB) (bool, error) {
	var built bool
	err := db.QueryRow(ctx, "SELECT spans_built FROM caseload_rollup_state WHERE id = 1").Scan(&built)
	return built, err
}

// Recount brings the spans of the given people up to date with their
// episodes, characteristics, referrals and offers, in tx: callers that
// change any of those (the import; making, starting, moving or forgetting a
// referral; recording or forgetting an offer) call it before they commit.
// While the spans are being built it leaves the people the build has not
// reached yet to the build. On PostgreSQL the people's rows are locked first, in id
// order, so two transactions recounting one person take turns and the
// second reads what the first committed.
func Recount(ctx context.Context, tx *store.Tx, persons []int64) error {
	return recount(ctx, tx, persons, nil)
}

// lockPeople holds the people's rows (PostgreSQL), in id order, until tx
// ends: two transactions that recount a person, or refresh their flags,
// take turns, and the second reads what the first committed. FOR NO KEY
// UPDATE, not FOR UPDATE: the writer that called this has often just
// inserted a row referring to the person (an offer, a referral), which
// holds a key-share lock on them that FOR UPDATE would wait behind — two
// such writers deadlocked. It reads nothing out. SQLite's write
// transaction already holds the database.
func lockPeople(ctx context.Context, tx *store.Tx, ids []int64) error {
	if tx.Dialect != store.Postgres || len(ids) == 0 {
		return nil
	}
	a := store.NewArgs()
	rows, err := tx.QueryContext(ctx, "SELECT id FROM people WHERE id IN "+a.IDs(tx.Dialect, ids)+" ORDER BY id FOR NO KEY UPDATE", a.Values()...)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// recount is Recount, given the facts of people created in this
// transaction (an import's new people): they have no spans, referrals or
// offers yet, and their episodes and characteristics are the import's, so
// nothing is read back for them.
func recount(ctx context.Context, tx *store.Tx, persons []int64, created map[int64]*personFacts) error {
	if len(persons) == 0 {
		return nil
	}
	var built bool
	var upto int64
	if err := tx.QueryRowContext(ctx, "SELECT spans_built, spans_upto FROM caseload_rollup_state WHERE id = 1").Scan(&built, &upto); err != nil {
		return err
	}
	ids := slices.Compact(slices.Sorted(slices.Values(persons)))
	if !built {
		// Being built: the people not reached yet are counted when they are.
		ids = slices.DeleteFunc(ids, func(id int64) bool { return id > upto })
		if len(ids) == 0 {
			return nil
		}
	}
	held := slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return created[id] != nil })
	facts, old, err := heldFacts(ctx, tx, held)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if f := created[id]; f != nil {
			facts[id] = f
		}
	}
	counts := newSpanCounts()
	var changed, replaced []int64
	var fresh []personSpans
	for _, pid := range ids {
		now := []span(nil)
		if f := facts[pid]; f != nil {
			now = spansOf(f)
		}
		if held := old[pid]; sameSpans(held.spans, now) && held.rows == len(fold(now)) {
			continue // unchanged, and folded (spans written before migration 0060 are folded now)
		}
		changed = append(changed, pid)
		if old[pid].rows > 0 {
			replaced = append(replaced, pid)
		}
		for _, s := range old[pid].spans {
			counts.add(s, -1)
		}
		for _, s := range now {
			counts.add(s, 1)
		}
		fresh = append(fresh, personSpans{pid, now})
	}
	if len(changed) == 0 {
		return nil
	}
	if len(replaced) > 0 {
		a := store.NewArgs()
		if _, err := tx.ExecContext(ctx, "DELETE FROM caseload_spans WHERE person_id IN "+a.IDs(tx.Dialect, replaced), a.Values()...); err != nil {
			return err
		}
	}
	if err := insertSpans(ctx, tx, fresh); err != nil {
		return err
	}
	return addCounts(ctx, tx, counts)
}

// heldFacts reads the episodes, characteristics, referrals and offers of
// the given people, and the spans held for them, each person's row locked
// first on PostgreSQL.
func heldFacts(ctx context.Context, tx *store.Tx, ids []int64) (map[int64]*personFacts, map[int64]heldSpans, error) {
	old := map[int64]heldSpans{}
	if len(ids) == 0 {
		return map[int64]*personFacts{}, old, nil
	}
	if err := lockPeople(ctx, tx, ids); err != nil {
		return nil, nil, err
	}
	a := store.NewArgs()
	in := a.IDs(tx.Dialect, ids)
	facts, err := loadFacts(ctx, tx, "IN "+in, a.Values())
	if err != nil {
		return nil, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT person_id, kind, unit, start_date, end_date, prev_end, COALESCE(birth_year, 0), gender, ethnicity,
		disability, first_language, team_unit, setting_unit FROM caseload_spans WHERE person_id IN `+in, a.Values()...)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var pid int64
		var r spanRow
		var end, prev *time.Time
		if err := rows.Scan(&pid, &r.kind, &r.unit, &r.start, &end, &prev, &r.birthYear, &r.gender, &r.ethnicity, &r.disability, &r.language,
			&r.team, &r.setting); err != nil {
			rows.Close()
			return nil, nil, err
		}
		r.start = day(r.start)
		if end != nil {
			r.end = day(*end)
		}
		if prev != nil {
			r.prev = day(*prev)
		}
		h := old[pid]
		h.spans, h.rows = append(h.spans, r.unfold()...), h.rows+1
		old[pid] = h
	}
	rows.Close()
	return facts, old, rows.Err()
}

// heldSpans are the spans held for a person, and the rows they take.
type heldSpans struct {
	spans []span
	rows  int
}

type personSpans struct {
	person int64
	spans  []span
}

func sameSpans(a, b []span) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(s span) string {
		return fmt.Sprint(s.kind, "|", s.unit, "|", s.start.Format(time.DateOnly), "|", s.end.Format(time.DateOnly), "|",
			s.prev.Format(time.DateOnly), "|", s.traits)
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[key(s)]++
	}
	for _, s := range b {
		k := key(s)
		if seen[k] == 0 {
			return false
		}
		seen[k]--
	}
	return true
}

// loadFacts reads the episodes, characteristics and offers of the people
// whose id matches the condition ("IN (…)" or "BETWEEN $1 AND $2").
func loadFacts(ctx context.Context, tx *store.Tx, cond string, args []any) (map[int64]*personFacts, error) {
	facts := map[int64]*personFacts{}
	rows, err := tx.QueryContext(ctx, `SELECT person_id, team_id, setting, start_date, end_date FROM caseload_episodes WHERE person_id `+cond, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var pid int64
		var e episodeFact
		var end *time.Time
		if err := rows.Scan(&pid, &e.team, &e.setting, &e.start, &end); err != nil {
			rows.Close()
			return nil, err
		}
		e.start = day(e.start)
		if end != nil {
			e.end = day(*end)
		}
		f := facts[pid]
		if f == nil {
			f = &personFacts{}
			facts[pid] = f
		}
		f.episodes = append(f.episodes, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(facts) == 0 {
		return facts, nil
	}
	rows, err = tx.QueryContext(ctx, `SELECT id, COALESCE(birth_year, 0), gender, ethnicity, disability, first_language FROM people WHERE id `+cond, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var pid int64
		var d traits
		if err := rows.Scan(&pid, &d.birthYear, &d.gender, &d.ethnicity, &d.disability, &d.language); err != nil {
			rows.Close()
			return nil, err
		}
		if f := facts[pid]; f != nil {
			f.traits = d
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT person_id, received_at, CASE WHEN first_contact_at IS NULL THEN 0 ELSE 1 END FROM referrals
		WHERE person_id `+cond, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var pid int64
		var at time.Time
		var started int
		if err := rows.Scan(&pid, &at, &started); err != nil {
			rows.Close()
			return nil, err
		}
		if f := facts[pid]; f != nil {
			f.referrals = append(f.referrals, referralFact{day(at), started == 1})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT person_id, at FROM offers WHERE response <> 'never_told' AND person_id `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pid int64
		var at time.Time
		if err := rows.Scan(&pid, &at); err != nil {
			return nil, err
		}
		if f := facts[pid]; f != nil {
			f.offers = append(f.offers, at)
		}
	}
	return facts, rows.Err()
}

// spansPerStatement is how many spans one multi-row statement inserts on
// SQLite (see rowsPerStatement).
const spansPerStatement = 144

func insertSpans(ctx context.Context, tx *store.Tx, people []personSpans) error {
	var rows [][]any
	date := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t
	}
	for _, p := range people {
		for _, s := range fold(p.spans) {
			rows = append(rows, []any{p.person, s.kind, s.unit, s.start, date(s.end), date(s.prev), nullInt(s.birthYear), s.gender, s.ethnicity,
				s.disability, s.language, s.team, s.setting})
		}
	}
	// By kind and start, the order of the start index, so that each
	// statement's new entries fall on a few of its pages (as insertEpisodes).
	slices.SortStableFunc(rows, func(a, b []any) int {
		return cmp.Or(cmp.Compare(a[1].(string), b[1].(string)), a[3].(time.Time).Compare(b[3].(time.Time)))
	})
	return insertRows(ctx, tx, `caseload_spans (person_id, kind, unit, start_date, end_date, prev_end, birth_year, gender, ethnicity,
		disability, first_language, team_unit, setting_unit)`, []string{"bigint", "text", "text", "date", "date", "date", "integer", "text", "text", "text",
		"text", "text", "text"},
		rows, spansPerStatement, "")
}

// insertRows inserts rows, perStatement a statement on SQLite, with an ON
// CONFLICT clause (tail) when given. On PostgreSQL the rows go in one
// statement, each column passed as an array of its type (types, in the
// order of into's columns): PostgreSQL plans multi-row VALUES afresh for
// each statement, and a batch's spans took twice as long that way.
func insertRows(ctx context.Context, tx *store.Tx, into string, types []string, rows [][]any, perStatement int, tail string) error {
	if tx.Dialect == store.Postgres && len(rows) > 0 {
		cols := make([][]any, len(types))
		for i := range cols {
			cols[i] = make([]any, len(rows))
		}
		for r, row := range rows {
			for c, v := range row {
				cols[c][r] = v
			}
		}
		a := store.NewArgs()
		arrays := make([]string, len(types))
		for i, t := range types {
			arrays[i] = a.Add(cols[i]) + "::" + t + "[]"
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+into+" SELECT * FROM unnest("+strings.Join(arrays, ", ")+")"+tail, a.Values()...)
		return err
	}
	for len(rows) > 0 {
		n := min(len(rows), perStatement)
		a := store.NewArgs()
		var b strings.Builder
		b.WriteString("INSERT INTO " + into + " VALUES ")
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(store.In(a, r...))
		}
		b.WriteString(tail)
		if _, err := tx.ExecContext(ctx, b.String(), a.Values()...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// addCounts adds changes to caseload_span_counts and caseload_gap_counts,
// in key order so two writers at once lock the rows they share in the same
// order.
func addCounts(ctx context.Context, tx *store.Tx, c spanCounts) error {
	gaps := slices.SortedFunc(mapKeys(c.gaps), func(a, b gapKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.grp, b.grp), cmp.Compare(a.prevMonth, b.prevMonth), cmp.Compare(a.months, b.months))
	})
	var gapRows [][]any
	for _, k := range gaps {
		if n := c.gaps[k]; n != 0 {
			gapRows = append(gapRows, []any{k.kind, k.grp, k.prevMonth, k.months, n})
		}
	}
	if err := upsert(ctx, tx, gapRows, "caseload_gap_counts (kind, grp, prev_month, start_month, n)", []string{"text", "text", "integer", "integer", "integer"},
		"prev_month, start_month, kind, grp",
		"n = caseload_gap_counts.n + excluded.n"); err != nil {
		return err
	}
	keys := slices.SortedFunc(mapKeys(c.counts), func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.grp, b.grp), cmp.Compare(a.month, b.month))
	})
	var rows [][]any
	for _, k := range keys {
		if v := c.counts[k]; v != [2]int{} {
			rows = append(rows, []any{k.kind, k.grp, k.month, v[0], v[1]})
		}
	}
	return upsert(ctx, tx, rows, "caseload_span_counts (kind, grp, month, starts, ends)", []string{"text", "text", "integer", "integer", "integer"},
		"kind, grp, month",
		"starts = caseload_span_counts.starts + excluded.starts, ends = caseload_span_counts.ends + excluded.ends")
}

// upsert adds rows (already in key order) to a count table, many a
// statement.
func upsert(ctx context.Context, tx *store.Tx, rows [][]any, into string, types []string, key, set string) error {
	return insertRows(ctx, tx, into, types, rows, 60, " ON CONFLICT ("+key+") DO UPDATE SET "+set)
}

// buildSpans builds the spans, if they are not built, a chunk of people at
// a time, each chunk its own transaction under the caseload lock, so that
// writers wait at most for one chunk (SQLite has one writer; a build in
// one transaction held every write up for minutes at a million episodes).
// The first chunk of a build clears what a stale build left. Changes to
// people already built are kept by Recount meanwhile; on PostgreSQL each
// chunk also locks offers and referrals against writes while it reads
// them, so a change to a person in the chunk is either read by it or
// recounted after it. Two instances running the job share the work.
func buildSpans(ctx context.Context, db *store.DB) error {
	for {
		done := false
		_, err := db.Exclusive(ctx, store.LockCaseload, true, func(tx *store.Tx) error {
			var err error
			done, err = buildSpansChunk(ctx, tx)
			return err
		})
		if err != nil {
			return fmt.Errorf("building the caseload spans: %w", err)
		}
		if done {
			return nil
		}
	}
}

// spanChunk is how many people's ids a chunk of the build covers.
const spanChunk = 5000

func buildSpansChunk(ctx context.Context, tx *store.Tx) (done bool, err error) {
	var built bool
	var upto int64
	if err := tx.QueryRowContext(ctx, "SELECT spans_built, spans_upto FROM caseload_rollup_state WHERE id = 1").Scan(&built, &upto); err != nil || built {
		return true, err
	}
	if tx.Dialect == store.Postgres {
		if _, err := tx.ExecContext(ctx, "LOCK TABLE offers, referrals IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return false, err
		}
	}
	if upto == 0 {
		for _, q := range []string{"DELETE FROM caseload_spans", "DELETE FROM caseload_span_counts", "DELETE FROM caseload_gap_counts"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return false, err
			}
		}
	}
	// The next chunk starts at the next person with an episode.
	var from, last int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MIN(person_id), 0), COALESCE(MAX(person_id), 0) FROM caseload_episodes WHERE person_id > $1",
		upto).Scan(&from, &last); err != nil {
		return false, err
	}
	if from == 0 {
		_, err := tx.ExecContext(ctx, "UPDATE caseload_rollup_state SET spans_built = TRUE, spans_upto = 0 WHERE id = 1")
		return true, err
	}
	to := from + spanChunk - 1
	facts, err := loadFacts(ctx, tx, "BETWEEN $1 AND $2", []any{from, to})
	if err != nil {
		return false, err
	}
	counts := newSpanCounts()
	people := make([]personSpans, 0, len(facts))
	for _, pid := range slices.Sorted(mapKeys(facts)) {
		spans := spansOf(facts[pid])
		for _, s := range spans {
			counts.add(s, 1)
		}
		people = append(people, personSpans{pid, spans})
	}
	if err := insertSpans(ctx, tx, people); err != nil {
		return false, err
	}
	if err := addCounts(ctx, tx, counts); err != nil {
		return false, err
	}
	if to >= last {
		_, err := tx.ExecContext(ctx, "UPDATE caseload_rollup_state SET spans_built = TRUE, spans_upto = 0 WHERE id = 1")
		return true, err
	}
	_, err = tx.ExecContext(ctx, "UPDATE caseload_rollup_state SET spans_upto = $1 WHERE id = 1", to)
	return false, err
}
