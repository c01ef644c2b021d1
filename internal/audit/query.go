package audit

import (
	"context"
	"strconv"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// Access is one entry in "who has looked at my record", in plain terms.
type Access struct {
	At        time.Time `json:"at"`
	ActorName string    `json:"actor_name"`
	ActorRole string    `json:"actor_role"`
	TeamName  string    `json:"team_name,omitempty"`
	Action    string    `json:"action"`
	Outcome   string    `json:"outcome"`
}

// ForPerson lists the newest accesses to one person's data, newest first,
// sealed or not: a row waiting to be sealed is a real access. Accesses by
// the account selfUserID are left out. tx may be read-only.
func ForPerson(ctx context.Context, tx *store.Tx, personID, selfUserID int64, limit int) ([]Access, error) {
	// The accesses naming the person as the subject, and those that showed
	// them among others (lists, searches, possible matches): two index
	// ranges.
	rows, err := tx.QueryContext(ctx, `SELECT a.at, COALESCE(u.name, 'Someone using the public form'), a.actor_role,
		COALESCE(t.name, ''), a.action, a.outcome
		FROM audit_events a
		LEFT JOIN users u ON u.id = a.actor_user_id
		LEFT JOIN teams t ON t.id = a.actor_team_id
		WHERE a.id IN (SELECT s.id FROM audit_events s WHERE s.subject_person_id = $1
			UNION ALL SELECT x.audit_id FROM audit_subjects x WHERE x.person_id = $1)
		AND COALESCE(a.actor_user_id, 0) <> $2
		ORDER BY a.id DESC LIMIT $3`, personID, selfUserID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Access
	for rows.Next() {
		var a Access
		if err := rows.Scan(&a.At, &a.ActorName, &a.ActorRole, &a.TeamName, &a.Action, &a.Outcome); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// OwnAccessLog is "who has seen my record" for a signed-in person: the
// newest accesses to their data by others, read and audited (as a read of
// their own record) in one write transaction. Log.OwnAccessLog does the
// same without the write lock.
func OwnAccessLog(ctx context.Context, db *store.DB, now time.Time, actor app.Actor, personID int64, limit int) ([]Access, error) {
	var rows []Access
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if personID != 0 {
			if rows, err = ForPerson(ctx, tx, personID, actor.UserID, limit); err != nil {
				return err
			}
		}
		return Record(ctx, tx, now, actor, Event{Action: "audit.read_own", SubjectPersonID: personID, ObjectType: "person",
			ObjectID: strconv.FormatInt(personID, 10)})
	})
	return rows, err
}

// OwnAccessLog is "who has seen my record" for a signed-in person, read in
// a read-only transaction and then audited through the group committer: it
// returns the rows only once the audit row is committed, and nothing with
// an error. It is the pattern for every audited read:
//
//	err := db.Read(ctx, func(tx *store.Tx) error { rows, err = ForPerson(ctx, tx, …); return err })
//	if err == nil { err = log.Append(ctx, actor, Event{…}) }
//	if err != nil { return nil, err } // send nothing
func (l *Log) OwnAccessLog(ctx context.Context, actor app.Actor, personID int64, limit int) ([]Access, error) {
	var rows []Access
	if personID != 0 {
		err := l.db.Read(ctx, func(tx *store.Tx) error {
			var err error
			rows, err = ForPerson(ctx, tx, personID, actor.UserID, limit)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if err := l.Append(ctx, actor, Event{Action: "audit.read_own", SubjectPersonID: personID, ObjectType: "person",
		ObjectID: strconv.FormatInt(personID, 10)}); err != nil {
		return nil, err
	}
	return rows, nil
}

// Recent lists the newest audit rows for administrators, sealed or not.
func Recent(ctx context.Context, db *store.DB, limit int) ([]Row, error) {
	rows, err := db.Query(ctx, "SELECT "+rowColumns+" FROM audit_events ORDER BY id DESC LIMIT $1", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Count returns the number of audit rows, optionally for one action.
func Count(ctx context.Context, db *store.DB, action string) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE $1 = '' OR action = $1", action).Scan(&n)
	return n, err
}
