package referral

import (
	"context"
	"fmt"
	"strings"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// WhatHelped is the person's own words about what helped, given after
// their peer support ended.
type WhatHelped struct {
	Words string `json:"what_helped" required:"true" doc:"What helped, in your own words. Up to 4,000 characters. Only the peer support team reads it; it is not sent to whoever made the referral."`
	// Version is the version of the referral the person saw.
	Version int `json:"version,omitempty" doc:"The version you last saw; a change made since answers 409. Left out: no check."`
}

// SayWhatHelped lets a person add, or change, their own words about what
// helped on their own ended referral. Anyone else's referral (and one made
// by the caller for someone else) is not found; a referral still open is a
// conflict; empty words are invalid. The change is in the referral's
// history and audited.
func (s *Service) SayWhatHelped(ctx context.Context, p *app.Principal, referralID int64, in WhatHelped) (MyReferral, error) {
	now := s.Clock.Now()
	in.Words = strings.TrimSpace(in.Words)
	var problems app.Problems
	if in.Words == "" {
		problems.Add("what_helped", "Write what helped, in your own words")
	}
	problems.CheckLen("what_helped", in.Words, maxText, "What helped")
	if err := problems.Err(); err != nil {
		return MyReferral{}, err
	}
	var out MyReferral
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := s.visibleReferral(ctx, tx, p, referralID, true)
		if err != nil {
			return err
		}
		if !ownReferral(p, &r) {
			return access.ErrNotVisible
		}
		if r.Status != Ended {
			return app.Errorf(app.CodeConflict, "You can say what helped once your peer support has ended")
		}
		if in.Version != 0 && in.Version != r.Version {
			return app.Errorf(app.CodeConflict, "This referral was changed since you looked at it. Look at it again.")
		}
		if err := tx.ExecOne(ctx, app.Errorf(app.CodeConflict, "This referral was changed at the same moment. Look at it again."),
			`UPDATE referrals SET what_helped = $1, what_helped_at = $2, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4`,
			in.Words, now, r.ID, r.Version); err != nil {
			return err
		}
		m, _ := roleIn(p, 0, app.RolePerson, app.RoleCarer)
		if err := addNote(ctx, tx, r.ID, p, m, now, "The person said what helped, in their own words."); err != nil {
			return err
		}
		if out, err = s.myReferral(ctx, tx, p, r.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermOwnRecord), audit.Event{Action: "referral.what_helped", SubjectPersonID: r.PersonID,
			ObjectType: "referral", ObjectID: fmt.Sprint(r.ID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermOwnRecord, "referral.what_helped", "referral", referralID, "The referral")
	}
	return out, nil
}
