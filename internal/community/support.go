package community

import (
	"context"
	"fmt"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// SupportRequest is a member's "I'd like 1:1 peer support".
type SupportRequest struct {
	AskedFor string `json:"asked_for" required:"true" doc:"What you would like support with."`
	// Agree: the member agrees to a referral being made for them (their
	// own request), which the peer support team will see.
	Agree bool `json:"agree" doc:"You agree that this makes a request for peer support in your name, which the peer support team will see and contact you about."`
}

// AskForSupport makes a member's own request for 1:1 peer support from the
// community: a self-referral (or, for a carer, a carer asking for
// themselves) through the referral service, with their agreement, and a
// record that it started in the community. Staff, and accounts that are
// neither a person who uses services nor a carer, cannot.
func (s *Service) AskForSupport(ctx context.Context, p *app.Principal, in SupportRequest) (referral.Referral, error) {
	var pr app.Problems
	in.AskedFor = strings.TrimSpace(in.AskedFor)
	if in.AskedFor == "" {
		pr.Add("asked_for", "Say a little about what you would like support with")
	}
	pr.CheckLen("asked_for", in.AskedFor, 2000, "What you would like support with")
	if !in.Agree {
		pr.Add("agree", "Tick to agree that this makes a request for peer support in your name")
	}
	if err := pr.Err(); err != nil {
		return referral.Referral{}, err
	}
	nr := referral.NewReferral{AskedFor: in.AskedFor}
	switch {
	case p.HasRole(app.RolePerson):
		nr.Source = referral.SourceSelf
	case p.HasRole(app.RoleCarer):
		nr.Source, nr.ForCarer = referral.SourceCarer, true
	default:
		return referral.Referral{}, app.Errorf(app.CodeForbidden, "Only people who use services and carers can ask for peer support here")
	}
	if err := s.DB.Read(ctx, func(tx *store.Tx) error { _, err := member(ctx, tx, p, false); return err }); err != nil {
		return referral.Referral{}, err
	}
	// Where the referral came from is written in the referral's own
	// transaction: both, or neither.
	nr.Then = func(ctx context.Context, tx *store.Tx, r referral.Referral) error {
		now := s.Clock.Now()
		if _, err := tx.ExecContext(ctx, "INSERT INTO community_support_requests (user_id, referral_id, created_at) VALUES ($1, $2, $3)", p.UserID, r.ID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSignedIn), audit.Event{Action: "community.support_request", SubjectPersonID: r.PersonID,
			ObjectType: "referral", ObjectID: fmt.Sprint(r.ID)})
	}
	return s.Referrals.CreateReferral(ctx, p, nr)
}
