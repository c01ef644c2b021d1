package demo

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/datarights"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
)

// personSideEvents tell the person's side of the story, on the same clock
// as everything else: someone whose record their care co-ordinator made
// claims it with a printed code and hears that a worker has been allocated;
// another is sent an invitation they have not used yet; Jordan changes how
// to be contacted and who may see their referral; a peer worker who also
// uses services asks for peer support from their own support, away from
// their colleagues; and a lead answers a subject access request.
func (l *loader) personSideEvents(now time.Time) []event {
	people := &person.Service{DB: l.DB, Clock: l.clock, Audit: l.ref.Audit, Counters: l.acc.Counters, BaseURL: l.acc.BaseURL}
	rights := &datarights.Service{DB: l.DB, Clock: l.clock, Audit: l.ref.Audit, Holders: []person.Holder{people, l.acc, l.ref}}
	var claimed, invited, jordan *plan
	for _, pl := range l.plans {
		switch {
		case pl.door == referral.SourceStaff && pl.person != nil && pl.team == "north" && pl.final == referral.Accepted && claimed == nil:
			claimed = pl
		case pl.door == referral.SourceStaff && pl.person != nil && pl.team == "south" && pl.final == referral.Active && invited == nil:
			invited = pl
		case pl.door == referral.SourceSelf && pl.by == "person":
			jordan = pl
		}
	}
	var samReferral int64
	as := func(key, acting string) func(ctx context.Context) (*app.Principal, error) {
		return func(ctx context.Context) (*app.Principal, error) {
			p, err := l.principal(ctx, key)
			if err != nil || acting == "" {
				return p, err
			}
			p.Memberships, _ = app.ActingMemberships(p.Memberships, acting)
			p.Acting = acting
			return p, nil
		}
	}
	ev := func(ago time.Duration, fn func(ctx context.Context) error) event {
		return event{at: now.Add(-ago), run: fn}
	}
	day := 24 * time.Hour
	return []event{
		// A peer worker on the crisis team asks for peer support for
		// themselves, from their own support, with a community team.
		ev(40*day, func(ctx context.Context) error {
			p, err := as("peer.own", app.ActingOwn)(ctx)
			if err != nil {
				return err
			}
			r, err := l.ref.CreateReferral(ctx, p, referral.NewReferral{Source: referral.SourceSelf, TeamID: l.teams["north"].ID,
				AskedFor: "Someone outside my own team to talk to, while things are hard at home.", WorkerPreferences: "Not anyone I work with, please."})
			samReferral = r.ID
			return err
		}),
		ev(37*day, func(ctx context.Context) error {
			p, err := l.principal(ctx, "lead")
			if err != nil || samReferral == 0 {
				return err
			}
			_, err = l.ref.Transition(ctx, p, samReferral, referral.Move{To: referral.Accepted})
			return err
		}),
		// Jordan changes how to be contacted, agrees to their referral
		// being shared beyond the peer support team, then withdraws it.
		ev(30*day, func(ctx context.Context) error {
			p, err := l.principal(ctx, "person")
			if err != nil {
				return err
			}
			_, err = people.UpdateOwnContact(ctx, p, person.ContactDetails{PreferredName: "Jordan Lee", Email: "person@mutual.demo",
				Phone: "07700 900461", ContactPreference: "email", ContactTimes: "Weekday evenings"})
			return err
		}),
		ev(25*day, func(ctx context.Context) error {
			return l.sharing(ctx, jordan, referral.Sharing{ShareWithReferrer: true, ShareBeyondTeam: true})
		}),
		ev(6*day, func(ctx context.Context) error {
			return l.sharing(ctx, jordan, referral.Sharing{ShareWithReferrer: true})
		}),
		// A printed invitation, not yet used.
		ev(10*day, func(ctx context.Context) error {
			if invited == nil || invited.person == nil {
				return nil
			}
			p, err := l.principal(ctx, invited.by)
			if err != nil {
				return err
			}
			_, err = people.InviteToClaim(ctx, p, invited.person.id, person.InviteByPrint)
			return err
		}),
		// Casey's care co-ordinator prints a code; Casey makes an account
		// with it, chooses email, and agrees to share beyond the team.
		ev(3*day, func(ctx context.Context) error {
			if claimed == nil || claimed.person == nil || claimed.id == 0 {
				return nil
			}
			p, err := l.principal(ctx, claimed.by)
			if err != nil {
				return err
			}
			inv, err := people.InviteToClaim(ctx, p, claimed.person.id, person.InviteByPrint)
			if err != nil {
				return err
			}
			u, err := l.acc.CreateUser(ctx, app.Operator("demo"), account.NewUser{Email: "casey@mutual.demo", Name: claimed.person.name,
				Memberships: []app.Membership{{Role: app.RolePerson}}, Password: Password, Claim: inv.Code})
			if err != nil {
				return err
			}
			l.users["casey"] = u
			l.res.Accounts = append(l.res.Accounts, Account{Email: "casey@mutual.demo", Role: "Person who uses services (claimed the record their care co-ordinator made)"})
			me, err := l.principal(ctx, "casey")
			if err != nil {
				return err
			}
			if _, err := people.UpdateOwnContact(ctx, me, person.ContactDetails{PreferredName: claimed.person.name, Email: "casey@mutual.demo",
				ContactPreference: "email", ContactTimes: "After 6pm"}); err != nil {
				return err
			}
			_, err = l.ref.ChangeSharing(ctx, me, claimed.id, referral.Sharing{ShareWithReferrer: true, ShareBeyondTeam: true})
			return err
		}),
		// A worker is allocated: Casey is told in Mutual and by email, and
		// the worker is told too.
		ev(1*day, func(ctx context.Context) error {
			if claimed == nil || claimed.id == 0 {
				return nil
			}
			p, err := l.principal(ctx, "lead")
			if err != nil {
				return err
			}
			if _, err := l.ref.Transition(ctx, p, claimed.id, referral.Move{To: referral.Allocated, WorkerID: l.users["peer"].ID}); err != nil &&
				!app.IsCode(err, app.CodeConflict) {
				return err
			}
			return nil
		}),
		// A subject access request, answered by a lead.
		ev(4*day, func(ctx context.Context) error {
			if invited == nil || invited.person == nil {
				return nil
			}
			p, err := l.principal(ctx, "lead")
			if err != nil {
				return err
			}
			_, err = rights.SubjectAccessCopy(ctx, p, invited.person.id, "Subject access request received by letter; copy posted to them.")
			if app.IsCode(err, app.CodeNotFound) {
				return nil // not on a team the lead leads
			}
			return err
		}),
	}
}

func (l *loader) sharing(ctx context.Context, pl *plan, s referral.Sharing) error {
	if pl == nil || pl.id == 0 {
		return nil
	}
	p, err := l.principal(ctx, pl.by)
	if err != nil {
		return err
	}
	_, err = l.ref.ChangeSharing(ctx, p, pl.id, s)
	return err
}
