package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// SessionShare is where a member of staff shares a group session: a
// space, and a topic in it to reply in (none: a new topic).
type SessionShare struct {
	SpaceID int64 `json:"space_id" required:"true" doc:"The space to share the session in."`
	TopicID int64 `json:"topic_id,omitempty" doc:"A topic in that space to reply in; leave out to start a topic."`
}

func errSessionCancelled() error {
	return app.Errorf(app.CodeConflict, "This session has been cancelled, so it cannot be shared")
}

// ShareSession posts a group session into the community through the
// normal post path (watched words, sanctions, trust): its group's title,
// its date and time (UK time) and link, the link to its public page — no
// bookings and no names. Staff only; a group that is not open to everyone
// (members' or invitation-only) is shared only into an invitation-only
// space, checked in the same transaction as the post so a group made
// private meanwhile is never shared.
func (s *Service) ShareSession(ctx context.Context, p *app.Principal, sessionID int64, in SessionShare, link string) (Posted, error) {
	if !MayShare(p) {
		return Posted{}, app.Errorf(app.CodeForbidden, "Only staff can share a group session")
	}
	var pr app.Problems
	if in.SpaceID <= 0 {
		pr.Add("space_id", "Choose a space to share the session in")
	}
	if err := pr.Err(); err != nil {
		return Posted{}, err
	}
	var title, status string
	var starts time.Time
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT g.title, se.starts_at, se.status FROM group_sessions se JOIN peer_groups g ON g.id = se.group_id WHERE se.id = $1`,
			sessionID).Scan(&title, &starts, &status)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Posted{}, app.NotFound("The session")
	}
	if err != nil {
		return Posted{}, err
	}
	if status != "scheduled" {
		return Posted{}, errSessionCancelled()
	}
	when := starts.In(app.London).Format("Monday 2 January 2006, 3:04pm")
	body := fmt.Sprintf("%s: %s (UK time). Details and booking: %s", title, when, link)
	topicTitle := title + ", " + starts.In(app.London).Format("2 January 2006")
	if r := []rune(topicTitle); len(r) > 120 {
		// By characters, as the title's limit counts them: cutting bytes
		// could split one and leave text PostgreSQL refuses.
		topicTitle = string(r[:120])
	}
	guard := func(ctx context.Context, tx *store.Tx, sp Space) error {
		// Read again in the post's transaction, with the group's row held:
		// a session cancelled, or a group made private, meanwhile is not
		// shared.
		var visibility, status string
		err := tx.QueryRowContext(ctx, `SELECT g.visibility, se.status FROM peer_groups g JOIN group_sessions se ON se.group_id = g.id WHERE se.id = $1`+forShare(tx),
			sessionID).Scan(&visibility, &status)
		if err != nil {
			return err
		}
		if status != "scheduled" {
			return errSessionCancelled()
		}
		if visibility != "public" && !sp.InvitationOnly {
			return app.Invalid(app.FieldError{Field: "space_id",
				Message: "This group is not open to everyone: share its sessions only in an invitation-only space"})
		}
		return nil
	}
	if in.TopicID == 0 {
		return s.createTopic(ctx, p, in.SpaceID, NewTopic{Title: topicTitle, Body: body}, guard)
	}
	return s.reply(ctx, p, in.TopicID, body, func(ctx context.Context, tx *store.Tx, sp Space) error {
		if sp.ID != in.SpaceID {
			return app.Invalid(app.FieldError{Field: "topic_id", Message: "Choose a topic in the space you chose"})
		}
		return guard(ctx, tx, sp)
	})
}

// forShare locks the group's row against a change of visibility until the
// post commits (SQLite serialises every write already).
func forShare(tx *store.Tx) string {
	if tx.Dialect == store.Postgres {
		return " FOR SHARE OF g"
	}
	return ""
}

// MayShare reports whether the caller may share a group session: staff
// who post under their role.
func MayShare(p *app.Principal) bool { return p != nil && p.UserID != 0 && staffRole(p) != "" }
