// Package audit writes and checks Mutual's audit trail: one append-only,
// hash-chained row for every read, list, search, export and write of a
// person's data, written in the same transaction as the access itself.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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
	ID              int64     `json:"id"`
	Seq             int64     `json:"seq"` // the row's place in the chain; 0 until it is sealed
	At              time.Time `json:"at"`
	RequestID       string    `json:"request_id"`
	ActorUserID     int64     `json:"actor_user_id"`
	ActorRole       string    `json:"actor_role"`
	ActorTeamID     int64     `json:"actor_team_id"`
	Action          string    `json:"action"`
	SubjectPersonID int64
	ObjectType      string    `json:"object_type"`
	ObjectID        string    `json:"object_id"`
	Outcome         string    `json:"outcome"`
	Subjects        string    `json:"subjects"`   // the people shown, as sorted comma-separated ids
	WrittenAt       time.Time `json:"written_at"` // the writing instance's wall clock; zero on rows older than sealing
	PrevHash        string    `json:"prev_hash"`  // empty until sealed
	Hash            string    `json:"hash"`       // empty until sealed
}

// Record appends one event in tx, unsealed: a plain INSERT that waits for
// no other transaction, on this instance or another. The sealer gives it
// its place in the chain within a second or so of tx committing (see
// Seal). It fails only if the insert does, which fails tx.
func Record(ctx context.Context, tx *store.Tx, now time.Time, actor app.Actor, e Event) error {
	r, subjects := newRow(now, actor, e)
	return insert(ctx, tx, &r, subjects)
}

// newRow builds the unsealed row for an event.
func newRow(now time.Time, actor app.Actor, e Event) (Row, []int64) {
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	r := Row{
		At: now.UTC().Truncate(time.Microsecond), RequestID: actor.RequestID, ActorUserID: actor.UserID,
		ActorRole: string(actor.Role), ActorTeamID: actor.TeamID, Action: e.Action,
		SubjectPersonID: e.SubjectPersonID, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Outcome: e.Outcome,
		// The wall clock, not the injected one: it is only for finding rows
		// left unsealed, which compares it with the verifier's wall clock.
		WrittenAt: time.Now().UTC().Truncate(time.Microsecond),
	}
	subjects := subjectIDs(e)
	r.Subjects = joinIDs(subjects)
	if r.ActorRole == "" {
		r.ActorRole = "public"
	}
	return r, subjects
}

const insertRowSQL = `INSERT INTO audit_events (at, request_id, actor_user_id, actor_role, actor_team_id, action,
	subject_person_id, object_type, object_id, outcome, subjects, written_at, prev_hash, hash)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '', '') RETURNING id`

// rowsPerInsert keeps a many-row insert well inside either engine's limit
// on parameters (12 a row).
const rowsPerInsert = 128

// insertRows writes rows unsealed, many to a statement. Their ids are not
// read: use insert for a row that indexes other people.
func insertRows(ctx context.Context, tx *store.Tx, rows []Row) error {
	for len(rows) > 0 {
		n := min(len(rows), rowsPerInsert)
		a := store.NewArgs()
		var q strings.Builder
		q.WriteString(`INSERT INTO audit_events (at, request_id, actor_user_id, actor_role, actor_team_id, action,
	subject_person_id, object_type, object_id, outcome, subjects, written_at, prev_hash, hash) VALUES `)
		for i, r := range rows[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(")
			for j, v := range []any{r.At, r.RequestID, nullID(r.ActorUserID), r.ActorRole, nullID(r.ActorTeamID),
				r.Action, nullID(r.SubjectPersonID), r.ObjectType, r.ObjectID, r.Outcome, r.Subjects, r.WrittenAt} {
				if j > 0 {
					q.WriteString(", ")
				}
				q.WriteString(a.Add(v))
			}
			q.WriteString(", '', '')")
		}
		if _, err := tx.ExecContext(ctx, q.String(), a.Values()...); err != nil {
			return fmt.Errorf("writing audit events: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}

// insert writes r unsealed (setting r.ID) and indexes it by the people it
// showed.
func insert(ctx context.Context, tx *store.Tx, r *Row, subjects []int64) error {
	err := tx.QueryRowContext(ctx, insertRowSQL, r.At, r.RequestID, nullID(r.ActorUserID), r.ActorRole, nullID(r.ActorTeamID),
		r.Action, nullID(r.SubjectPersonID), r.ObjectType, r.ObjectID, r.Outcome, r.Subjects, r.WrittenAt).Scan(&r.ID)
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

// computeHash covers every column, the row's place in the chain and its
// predecessor's hash, so editing, deleting or reordering rows breaks the
// chain. The first field is the chain position: rows sealed before the
// sealer existed were numbered by id, and their seq equals their id, so
// their hashes are unchanged. Fields added since are appended only when
// present, for the same reason. The id is covered whenever it differs from
// seq, so changing a row's id is caught too (an id changed to equal its
// seq drops the field and so changes the hash).
func (r Row) computeHash() string {
	h := sha256.New()
	for _, f := range []string{
		strconv.FormatInt(r.Seq, 10), r.At.UTC().Format(time.RFC3339Nano), r.RequestID,
		strconv.FormatInt(r.ActorUserID, 10), r.ActorRole, strconv.FormatInt(r.ActorTeamID, 10),
		r.Action, strconv.FormatInt(r.SubjectPersonID, 10), r.ObjectType, r.ObjectID, r.Outcome, r.PrevHash,
	} {
		// Length-prefixing makes the encoding unambiguous.
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	if r.Subjects != "" {
		fmt.Fprintf(h, "subjects:%d:%s;", len(r.Subjects), r.Subjects)
	}
	if r.ID != r.Seq {
		id := strconv.FormatInt(r.ID, 10)
		fmt.Fprintf(h, "id:%d:%s;", len(id), id)
	}
	if !r.WrittenAt.IsZero() {
		w := r.WrittenAt.UTC().Format(time.RFC3339Nano)
		fmt.Fprintf(h, "written:%d:%s;", len(w), w)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// rowColumns are the columns scanRow reads, in order.
const rowColumns = `id, COALESCE(seq, 0), at, request_id, COALESCE(actor_user_id, 0), actor_role,
	COALESCE(actor_team_id, 0), action, COALESCE(subject_person_id, 0), object_type, object_id,
	outcome, subjects, written_at, prev_hash, hash`

type scanner interface{ Scan(dest ...any) error }

func scanRow(s scanner) (Row, error) {
	var r Row
	var written sql.NullTime
	err := s.Scan(&r.ID, &r.Seq, &r.At, &r.RequestID, &r.ActorUserID, &r.ActorRole, &r.ActorTeamID, &r.Action,
		&r.SubjectPersonID, &r.ObjectType, &r.ObjectID, &r.Outcome, &r.Subjects, &written, &r.PrevHash, &r.Hash)
	if written.Valid {
		r.WrittenAt = written.Time.UTC()
	}
	return r, err
}
