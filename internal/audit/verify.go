package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/store"
)

// VerifyResult summarises a chain check.
type VerifyResult struct {
	Rows     int64 // sealed rows checked
	Unsealed int64 // rows written but not yet sealed
	HeadSeq  int64
	HeadID   int64
	HeadHash string
	HeadAt   time.Time
	Problems []string
}

// OK reports whether the chain verified.
func (v VerifyResult) OK() bool { return len(v.Problems) == 0 }

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Now is the time unsealed rows are aged against (default: the wall
	// clock, which is what wrote their written_at).
	Now time.Time
	// UnsealedLimit is how long a row may wait to be sealed before it is
	// reported (default 60 s): longer means no sealer is running, or
	// sealing fails.
	UnsealedLimit time.Duration
	// Known is a head published earlier (its Seq and Hash). The chain must
	// still reach it with the same hash: this is what detects the newest
	// rows being removed, or the chain rewritten from some row onwards.
	Known *Head
}

// maxProblems bounds the problems listed; the check goes on counting.
const maxProblems = 20

// Verify checks the audit trail with the default options; see VerifyWith.
// It cannot tell that the newest sealed rows were removed unless it is
// given a head published earlier: keep the head somewhere else.
func Verify(ctx context.Context, db *store.DB) (VerifyResult, error) {
	return VerifyWith(ctx, db, VerifyOptions{})
}

// VerifyWith walks the sealed chain in seq order, in one read-only
// snapshot, and reports: a position missing or held twice (rows deleted,
// reordered, sealed twice or a seal forged), a row that does not link to
// the one before it, a row whose content no longer matches its hash, a
// row carrying a seal but no place in the chain, a row left unsealed for
// longer than the limit, a published head the chain no longer reaches, and
// for each row any difference between the people it names and the index of
// people shown (audit_subjects). It lists at most 20 problems. An error is
// returned only when the database could not be read; a tampered trail is a
// result that is not OK.
func VerifyWith(ctx context.Context, db *store.DB, opts VerifyOptions) (VerifyResult, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.UnsealedLimit <= 0 {
		opts.UnsealedLimit = time.Minute
	}
	var res VerifyResult
	err := db.Read(ctx, func(tx *store.Tx) error {
		res = VerifyResult{}
		var extra int
		add := func(format string, args ...any) {
			if len(res.Problems) < maxProblems {
				res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
			} else {
				extra++
			}
		}
		if err := walkChain(ctx, tx, &res, opts, add); err != nil {
			return err
		}
		if err := checkUnsealed(ctx, tx, &res, opts, add); err != nil {
			return err
		}
		if err := checkSubjects(ctx, tx, add); err != nil {
			return err
		}
		if extra > 0 {
			res.Problems = append(res.Problems, fmt.Sprintf("and %d more problems", extra))
		}
		return nil
	})
	return res, err
}

func walkChain(ctx context.Context, tx *store.Tx, res *VerifyResult, opts VerifyOptions, add func(string, ...any)) error {
	rows, err := tx.QueryContext(ctx, "SELECT "+rowColumns+" FROM audit_events WHERE seq IS NOT NULL ORDER BY seq, id")
	if err != nil {
		return err
	}
	defer rows.Close()
	var prev Row
	knownSeen := false
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return err
		}
		res.Rows++
		switch {
		case prev.ID != 0 && r.Seq == prev.Seq:
			add("chain position %d is held by rows %d and %d: a row was sealed twice or a seal forged", r.Seq, prev.ID, r.ID)
		case r.Seq != prev.Seq+1:
			add("row %d (position %d) follows position %d: sealed rows are missing or reordered", r.ID, r.Seq, prev.Seq)
		}
		if r.PrevHash != prev.Hash {
			add("row %d (position %d) does not link to the row before it: a row was deleted, inserted or changed", r.ID, r.Seq)
		}
		if r.computeHash() != r.Hash {
			add("row %d (position %d) has been changed since it was sealed", r.ID, r.Seq)
		}
		if k := opts.Known; k != nil && r.Seq == k.Seq {
			knownSeen = true
			if r.Hash != k.Hash {
				add("position %d no longer has the published hash %s: the chain was rewritten", k.Seq, k.Hash)
			}
		}
		prev = r
	}
	if err := rows.Err(); err != nil {
		return err
	}
	res.HeadSeq, res.HeadID, res.HeadHash, res.HeadAt = prev.Seq, prev.ID, prev.Hash, prev.At
	if k := opts.Known; k != nil && k.Seq > 0 && !knownSeen {
		add("the published head at position %d is not in the chain: the newest rows were removed", k.Seq)
	}
	return nil
}

func checkUnsealed(ctx context.Context, tx *store.Tx, res *VerifyResult, opts VerifyOptions, add func(string, ...any)) error {
	rows, err := tx.QueryContext(ctx, "SELECT "+rowColumns+" FROM audit_events WHERE seq IS NULL ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	var late int64
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return err
		}
		res.Unsealed++
		if r.Hash != "" || r.PrevHash != "" {
			add("row %d carries a seal but has no place in the chain: the seal was forged or its position removed", r.ID)
		}
		if r.WrittenAt.IsZero() || opts.Now.Sub(r.WrittenAt) > opts.UnsealedLimit {
			late++
			if late <= 3 {
				add("row %d has waited more than %s to be sealed: is a sealer running?", r.ID, opts.UnsealedLimit)
			}
		}
	}
	if late > 3 {
		add("%d rows in all have waited more than %s to be sealed", late, opts.UnsealedLimit)
	}
	return rows.Err()
}

// checkSubjects compares, row by row, the people each row names (its
// subjects column, covered by its hash) with the index of people shown,
// which is what "who has seen my record" reads. Two queries: index entries
// their row does not name (or whose row is gone), and rows whose number of
// entries differs from the number of people they name. Entries are unique
// per row, so together these find every difference.
func checkSubjects(ctx context.Context, tx *store.Tx, add func(string, ...any)) error {
	rows, err := tx.QueryContext(ctx, `SELECT s.audit_id, s.person_id, a.id IS NULL
		FROM audit_subjects s LEFT JOIN audit_events a ON a.id = s.audit_id
		WHERE a.id IS NULL OR (',' || a.subjects || ',') NOT LIKE ('%,' || CAST(s.person_id AS TEXT) || ',%')
		ORDER BY s.audit_id, s.person_id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var auditID, personID int64
		var gone bool
		if err := rows.Scan(&auditID, &personID, &gone); err != nil {
			rows.Close()
			return err
		}
		if gone {
			add("the index of people shown lists person %d for row %d, which does not exist: the row was deleted", personID, auditID)
		} else {
			add("the index of people shown lists person %d for row %d, which does not name them: an entry was added", personID, auditID)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT a.id, a.subjects, COALESCE(c.n, 0)
		FROM audit_events a
		LEFT JOIN (SELECT audit_id, COUNT(*) AS n FROM audit_subjects GROUP BY audit_id) c ON c.audit_id = a.id
		WHERE a.subjects <> ''
		AND COALESCE(c.n, 0) <> length(a.subjects) - length(replace(a.subjects, ',', '')) + 1
		ORDER BY a.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		var subjects string
		if err := rows.Scan(&id, &subjects, &n); err != nil {
			return err
		}
		add("row %d names the people %s, but the index of people shown lists %d for it: entries were removed", id, subjects, n)
	}
	return rows.Err()
}
