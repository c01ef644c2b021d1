// Package audit writes and checks Mutual's audit trail: one append-only,
// hash-chained row for every read, list, search, export and write of a
// person's data, written in the same transaction as the access itself.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// Outcomes of an audited action.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeFailed = "failed"
)

// Event is one audited action. SubjectPersonID is the person whose data was
// touched (zero for lists and for actions on no one's data); Subjects are
// the people a list, search, set of possible matches or notification
// showed, so each of them finds it in "who has seen my record".
type Event struct {
	Action          string
	SubjectPersonID int64
	Subjects        []int64
	ObjectType      string
	ObjectID        string
	Outcome         string
}

// Row is a stored audit event.
type Row struct {
	ID              int64
	At              time.Time
	RequestID       string
	ActorUserID     int64
	ActorRole       string
	ActorTeamID     int64
	Action          string
	SubjectPersonID int64
	ObjectType      string
	ObjectID        string
	Outcome         string
	Subjects        string // the people shown, as sorted comma-separated ids
	PrevHash        string
	Hash            string
}

// Record appends one event in tx. It takes the chain lock so rows from
// concurrent transactions (and instances) get consecutive ids and each
// hashes its predecessor; the lock is held until tx ends, so write it near
// the end of short transactions.
func Record(ctx context.Context, tx *store.Tx, now time.Time, actor app.Actor, e Event) error {
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	if err := tx.Lock(ctx, store.LockAuditChain); err != nil {
		return fmt.Errorf("audit lock: %w", err)
	}
	var lastID int64
	var prev string
	err := tx.QueryRowContext(ctx, "SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1").Scan(&lastID, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit chain head: %w", err)
	}
	r := Row{
		ID: lastID + 1, At: now.UTC().Truncate(time.Microsecond), RequestID: actor.RequestID, ActorUserID: actor.UserID,
		ActorRole: string(actor.Role), ActorTeamID: actor.TeamID, Action: e.Action,
		SubjectPersonID: e.SubjectPersonID, ObjectType: e.ObjectType, ObjectID: e.ObjectID,
		Outcome: e.Outcome, PrevHash: prev,
	}
	subjects := subjectIDs(e)
	r.Subjects = joinIDs(subjects)
	if r.ActorRole == "" {
		r.ActorRole = "public"
	}
	r.Hash = r.computeHash()
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_events (id, at, request_id, actor_user_id, actor_role,
		actor_team_id, action, subject_person_id, object_type, object_id, outcome, subjects, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.At, r.RequestID, nullID(r.ActorUserID), r.ActorRole, nullID(r.ActorTeamID), r.Action,
		nullID(r.SubjectPersonID), r.ObjectType, r.ObjectID, r.Outcome, r.Subjects, r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("writing audit event: %w", err)
	}
	return insertSubjects(ctx, tx, r.ID, subjects)
}

// subjectIDs are the distinct people an event showed besides its main
// subject, in order.
func subjectIDs(e Event) []int64 {
	ids := make([]int64, 0, len(e.Subjects))
	for _, id := range e.Subjects {
		if id != 0 && id != e.SubjectPersonID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func joinIDs(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// insertSubjects indexes an event by each person it showed, in one
// statement with one parameter for the list, however long.
func insertSubjects(ctx context.Context, tx *store.Tx, auditID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO audit_subjects (audit_id, person_id) SELECT $1, id FROM "+tx.Dialect.IDTable("$2", "shown"),
		auditID, store.IDsParam(ids))
	if err != nil {
		return fmt.Errorf("writing audit subjects: %w", err)
	}
	return nil
}

// RecordAlone writes one event in its own transaction: for denied attempts,
// whose own transaction (if any) is rolled back.
func RecordAlone(ctx context.Context, db *store.DB, now time.Time, actor app.Actor, e Event) error {
	return db.Write(ctx, func(tx *store.Tx) error { return Record(ctx, tx, now, actor, e) })
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// computeHash covers every column, the row's id and its predecessor's hash,
// so editing, deleting or reordering rows breaks the chain.
func (r Row) computeHash() string {
	h := sha256.New()
	for _, f := range []string{
		strconv.FormatInt(r.ID, 10), r.At.UTC().Format(time.RFC3339Nano), r.RequestID,
		strconv.FormatInt(r.ActorUserID, 10), r.ActorRole, strconv.FormatInt(r.ActorTeamID, 10),
		r.Action, strconv.FormatInt(r.SubjectPersonID, 10), r.ObjectType, r.ObjectID, r.Outcome, r.PrevHash,
	} {
		// Length-prefixing makes the encoding unambiguous.
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	if r.Subjects != "" {
		// Rows written before subjects were kept hash as they always did.
		fmt.Fprintf(h, "subjects:%d:%s;", len(r.Subjects), r.Subjects)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyResult summarises a chain check.
type VerifyResult struct {
	Rows     int64
	HeadID   int64
	HeadHash string
	Problems []string
}

// OK reports whether the chain verified.
func (v VerifyResult) OK() bool { return len(v.Problems) == 0 }

// Verify walks the whole chain in id order and reports every row whose id
// is out of sequence, whose prev_hash does not match its predecessor or
// whose content does not match its hash. It stops listing after 20
// problems. Deleting rows from the very end of the chain cannot be detected
// from the chain alone: keep the printed head hash somewhere else.
func Verify(ctx context.Context, db *store.DB) (VerifyResult, error) {
	var res VerifyResult
	rows, err := db.Query(ctx, `SELECT id, at, request_id, COALESCE(actor_user_id, 0), actor_role,
		COALESCE(actor_team_id, 0), action, COALESCE(subject_person_id, 0), object_type, object_id,
		outcome, subjects, prev_hash, hash FROM audit_events ORDER BY id`)
	if err != nil {
		return res, err
	}
	defer rows.Close()
	var prevID int64
	var subjectRows int64
	prevHash := ""
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.ID, &r.At, &r.RequestID, &r.ActorUserID, &r.ActorRole, &r.ActorTeamID,
			&r.Action, &r.SubjectPersonID, &r.ObjectType, &r.ObjectID, &r.Outcome, &r.Subjects, &r.PrevHash, &r.Hash); err != nil {
			return res, err
		}
		if r.Subjects != "" {
			subjectRows += int64(strings.Count(r.Subjects, ",") + 1)
		}
		res.Rows++
		add := func(format string, args ...any) {
			if len(res.Problems) < 20 {
				res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
			}
		}
		if r.ID != prevID+1 {
			add("row %d follows row %d: rows are missing or reordered", r.ID, prevID)
		}
		if r.PrevHash != prevHash {
			add("row %d does not link to the row before it: a row was deleted, inserted or changed", r.ID)
		}
		if r.computeHash() != r.Hash {
			add("row %d has been changed since it was written", r.ID)
		}
		prevID, prevHash = r.ID, r.Hash
	}
	res.HeadID, res.HeadHash = prevID, prevHash
	if err := rows.Err(); err != nil {
		return res, err
	}
	// The index by person must hold every person each row names, or
	// someone would not find an access in "who has seen my record".
	var indexed int64
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_subjects").Scan(&indexed); err != nil {
		return res, err
	}
	if indexed != subjectRows {
		res.Problems = append(res.Problems, fmt.Sprintf("the index of people shown holds %d entries, but the rows name %d: entries were removed or added", indexed, subjectRows))
	}
	return res, nil
}
