package person

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/store"
)

// FromRecord is a person as the trust's electronic record describes them
// (a caseload import): their reference in that record and the
// characteristics it carries. Empty fields and a zero birth year say
// nothing: they never clear what Mutual already holds.
type FromRecord struct {
	TrustRef      string
	PreferredName string
	BirthYear     int
	Gender        string
	Ethnicity     string
	Disability    string
	FirstLanguage string
}

// recordRow is what is held for a person known by a trust reference.
type recordRow struct {
	id  int64
	rec FromRecord
}

// changedBy reports whether the record brings characteristics not yet held.
func (h recordRow) changedBy(r FromRecord) bool {
	return (r.BirthYear != 0 && r.BirthYear != h.rec.BirthYear) || (r.Gender != "" && r.Gender != h.rec.Gender) ||
		(r.Ethnicity != "" && r.Ethnicity != h.rec.Ethnicity) || (r.Disability != "" && r.Disability != h.rec.Disability) ||
		(r.FirstLanguage != "" && r.FirstLanguage != h.rec.FirstLanguage) || (r.PreferredName != "" && r.PreferredName != h.rec.PreferredName)
}

// copiedBy reports whether the record changes a characteristic each of the
// person's referrals holds a copy of (migration 0061): birth year, gender
// or ethnicity.
func (h recordRow) copiedBy(r FromRecord) bool {
	return (r.BirthYear != 0 && r.BirthYear != h.rec.BirthYear) || (r.Gender != "" && r.Gender != h.rec.Gender) ||
		(r.Ethnicity != "" && r.Ethnicity != h.rec.Ethnicity)
}

// recordRowsPerStatement is how many people one multi-row statement
// creates on SQLite. Parsing and planning a statement costs about the same
// whatever its length, so fewer, longer statements cost less; SQLite once
// looked each $N up among the names before it, which made a statement's
// cost grow with the square of its length, but store binds plain ? now
// (store.positional). 40 → 160 rows, with the episodes' and spans' (the
// same change), took a 200,000-row import from 12.1/13.1 to 11.5/11.7 s.
const recordRowsPerStatement = 160

// UpsertFromRecord finds the people with the records' trust references,
// creates those not yet in Mutual and brings the characteristics of the
// others up to date, inside tx, in a handful of statements whatever the
// number of records. It answers each reference's person id, and the
// references of the people it created (they have nothing else in Mutual
// yet). Records must have distinct references (the caller keeps the last
// row for each).
func UpsertFromRecord(ctx context.Context, tx *store.Tx, recs []FromRecord, now time.Time) (ids map[string]int64, created map[string]bool, err error) {
	ids, created = map[string]int64{}, map[string]bool{}
	if len(recs) == 0 {
		return ids, created, nil
	}
	held := map[string]recordRow{}
	for start := 0; start < len(recs); start += 500 {
		a := store.NewArgs()
		var refs []string
		for _, r := range recs[start:min(start+500, len(recs))] {
			refs = append(refs, r.TrustRef)
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, trust_ref, COALESCE(birth_year, 0), gender, ethnicity, disability, first_language, preferred_name
			FROM people WHERE trust_ref IN `+store.In(a, refs...), a.Values()...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var h recordRow
			if err := rows.Scan(&h.id, &h.rec.TrustRef, &h.rec.BirthYear, &h.rec.Gender, &h.rec.Ethnicity, &h.rec.Disability,
				&h.rec.FirstLanguage, &h.rec.PreferredName); err != nil {
				rows.Close()
				return nil, nil, err
			}
			held[h.rec.TrustRef] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	var missing, changed []FromRecord
	var copied []int64 // people whose referrals' copies change
	for _, r := range recs {
		h, ok := held[r.TrustRef]
		if !ok {
			missing = append(missing, r)
			continue
		}
		ids[r.TrustRef] = h.id
		if h.changedBy(r) {
			changed = append(changed, r)
		}
		if h.copiedBy(r) {
			copied = append(copied, h.id)
		}
	}
	if err := lockReferralsOf(ctx, tx, copied); err != nil {
		return nil, nil, err
	}
	for _, r := range changed {
		h := held[r.TrustRef]
		if _, err := tx.ExecContext(ctx, `UPDATE people SET birth_year = COALESCE($1, birth_year),
			gender = CASE WHEN $2 = '' THEN gender ELSE $2 END, ethnicity = CASE WHEN $3 = '' THEN ethnicity ELSE $3 END,
			disability = CASE WHEN $4 = '' THEN disability ELSE $4 END, first_language = CASE WHEN $5 = '' THEN first_language ELSE $5 END,
			preferred_name = CASE WHEN $6 = '' THEN preferred_name ELSE $6 END, updated_at = $7 WHERE id = $8`,
			nullYear(r.BirthYear), r.Gender, r.Ethnicity, r.Disability, r.FirstLanguage, r.PreferredName, now, h.id); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range missing {
		created[r.TrustRef] = true
	}
	if tx.Dialect == store.Postgres && len(missing) > 0 {
		return ids, created, insertRecordsPG(ctx, tx, missing, ids, now)
	}
	for len(missing) > 0 {
		n := min(len(missing), recordRowsPerStatement)
		if err := insertRecords(ctx, tx, missing[:n], ids, now); err != nil {
			return nil, nil, err
		}
		missing = missing[n:]
	}
	return ids, created, nil
}

// lockReferralsOf locks, on PostgreSQL, the referrals of the people whose
// records change their copied characteristics, before their rows are
// updated. The change is copied to their referrals by a trigger (migration
// 0061), which locks those referrals; a writer that changes one referral
// locks it first and its person after (caseload.Recount). Taking the
// referrals first here keeps that order, so an import and such a writer
// wait for each other instead of deadlocking. (A writer holding several
// referrals can still meet a batch the other way round through the
// caseload flags' refresh, as before 0061; PostgreSQL detects it and the
// store retries.) SQLite has one writer at a time and needs nothing.
func lockReferralsOf(ctx context.Context, tx *store.Tx, people []int64) error {
	if tx.Dialect != store.Postgres || len(people) == 0 {
		return nil
	}
	a := store.NewArgs()
	rows, err := tx.QueryContext(ctx, "SELECT id FROM referrals WHERE person_id IN "+a.IDs(tx.Dialect, people)+" ORDER BY id FOR NO KEY UPDATE",
		a.Values()...)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

func insertRecords(ctx context.Context, tx *store.Tx, recs []FromRecord, ids map[string]int64, now time.Time) error {
	a := store.NewArgs()
	var b strings.Builder
	b.WriteString(`INSERT INTO people (preferred_name, trust_ref, birth_year, gender, ethnicity, disability, first_language, created_at, updated_at) VALUES `)
	for i, r := range recs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + strings.Join([]string{a.Add(r.PreferredName), a.Add(r.TrustRef), a.Add(nullYear(r.BirthYear)), a.Add(r.Gender),
			a.Add(r.Ethnicity), a.Add(r.Disability), a.Add(r.FirstLanguage), a.Add(now), a.Add(now)}, ", ") + ")")
	}
	b.WriteString(" RETURNING id, trust_ref")
	rows, err := tx.QueryContext(ctx, b.String(), a.Values()...)
	return readCreated(rows, err, ids)
}

// insertRecordsPG creates people in one statement on PostgreSQL, each
// column passed as an array: PostgreSQL parses and plans a multi-row VALUES
// afresh each time, and a 500,000-row import spent 7 of its 49 seconds
// creating 250,000 people 40 at a time.
func insertRecordsPG(ctx context.Context, tx *store.Tx, recs []FromRecord, ids map[string]int64, now time.Time) error {
	n := len(recs)
	names, refs, genders, ethnicities, disabilities, langs := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n)
	years := make([]*int64, n)
	for i, r := range recs {
		names[i], refs[i], genders[i], ethnicities[i], disabilities[i], langs[i] = r.PreferredName, r.TrustRef, r.Gender, r.Ethnicity,
			r.Disability, r.FirstLanguage
		if r.BirthYear != 0 {
			y := int64(r.BirthYear)
			years[i] = &y
		}
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO people (preferred_name, trust_ref, birth_year, gender, ethnicity, disability, first_language,
		created_at, updated_at)
		SELECT x.n, x.r, x.b, x.g, x.e, x.d, x.l, $8, $8
		FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS x (n, r, b, g, e, d, l, i)
		ORDER BY x.i
		RETURNING id, trust_ref`, names, refs, years, genders, ethnicities, disabilities, langs, now)
	return readCreated(rows, err, ids)
}

// readCreated reads the id and trust reference of each person an insert
// returned into ids.
func readCreated(rows *sql.Rows, err error, ids map[string]int64) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ref string
		if err := rows.Scan(&id, &ref); err != nil {
			return err
		}
		ids[ref] = id
	}
	return rows.Err()
}

func nullYear(y int) any {
	if y == 0 {
		return nil
	}
	return y
}
