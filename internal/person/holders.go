package person

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// Holder is a capability that holds data about people. Every capability
// with a table that names a person implements it, so that a person's copy
// of their data (and a subject access copy made by staff) holds
// everything, and the retention job forgets everything. The data-rights
// service in cmd/mutual is given every Holder; a test checks every table
// that names a person belongs to one.
type Holder interface {
	// HolderName is the capability's name, a heading in a person's copy.
	HolderName() string
	// Tables are the tables the holder keeps a person's data in.
	Tables() []string
	// Export returns everything the capability holds about the person,
	// inside tx, as plain values that encode to JSON, readable by the
	// person (codes with their words).
	Export(ctx context.Context, tx *store.Tx, personID int64) (any, error)
	// LastActivity is when the capability last recorded anything about
	// the person (zero when nothing), for retention.
	LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error)
	// Forget deletes everything the capability holds about the person,
	// inside tx, for the retention job. Audit rows are never deleted: they
	// hold no personal details, only ids.
	Forget(ctx context.Context, tx *store.Tx, personID int64) error
}

// LocksFirst is a Holder whose rows record activity without writing
// anything that names the person's row (an account's sign-ins and token
// uses), so a lock on the person's row does not make that activity wait.
// Retention asks it to lock those rows first, before the person's row, in
// the same order a claim takes them (the account, then the person): a
// sign-in at the moment a person is forgotten is then either seen (they
// are kept) or refused (their account is closed), never lost.
type LocksFirst interface {
	LockBeforePerson(ctx context.Context, tx *store.Tx, personID int64) error
}

type completeCopyKey struct{}

// ForSubjectAccess marks ctx as making a subject access copy by the staff
// member p, for them to review and give: holders then include what the
// person's own copy leaves out (restricted notes), as far as p may read it.
// Only the data-rights service sets it.
func ForSubjectAccess(ctx context.Context, p *app.Principal) context.Context {
	return context.WithValue(ctx, completeCopyKey{}, p)
}

// SubjectAccessBy is the staff member making a subject access copy in ctx
// (ForSubjectAccess), or nil for the person's own copy.
func SubjectAccessBy(ctx context.Context) *app.Principal {
	p, _ := ctx.Value(completeCopyKey{}).(*app.Principal)
	return p
}
