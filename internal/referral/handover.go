package referral

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// Handovers (#12). When a referral goes from one peer worker to another
// (leaving, a long absence, the person's request), the new worker sees of
// the contacts recorded before they took over only what the person agreed
// to share: all of it, a summary (when, how long, mode, setting and support
// types, no note text), or nothing. The person chooses from their account,
// or staff record it with the person's agreement (saying on whose say); no
// choice yet is a summary, the safe middle: the new worker knows there was
// support and of what kind, and reads no one's words about it without the
// person's agreement. The rule is access.HandoverHistory, applied in every
// read of contacts (contactsWhere). The change of worker is recorded
// (recordHandover) in the move's own transaction.

// HandoverShares are the choices of what a new worker sees.
var HandoverShares = []Reason{
	{Code: access.HistoryAll, Label: "Everything: earlier contacts and their notes"},
	{Code: access.HistorySummary, Label: "A summary only: dates, how we met and the kinds of support, but no notes"},
	{Code: access.HistoryNone, Label: "None of the contacts: a fresh start"},
}

// HandoverSharing is the person's choice of what a new peer worker sees of
// their support so far.
type HandoverSharing struct {
	ReferralID int64      `json:"referral_id"`
	Share      string     `json:"share" doc:"all, summary or none. summary until a choice is made."`
	Chosen     bool       `json:"chosen" doc:"false: no choice made yet, so a new worker sees a summary only."`
	ByPerson   bool       `json:"by_person,omitempty" doc:"The person chose it in their account (otherwise staff recorded it on their say)."`
	ChosenBy   string     `json:"chosen_by,omitempty"`
	Agreement  string     `json:"agreement,omitempty" doc:"Staff recording it: on whose say, in their words."`
	ChosenAt   *time.Time `json:"chosen_at,omitempty"`
	Version    int        `json:"version" doc:"Send it back when changing the choice: a stale one answers 409. 0 while none is made."`
}

// ShareLabel is the choice in words.
func (h HandoverSharing) ShareLabel() string { return ReasonLabel(HandoverShares, h.Share) }

// HandoverChoice is a choice of what a new worker sees.
type HandoverChoice struct {
	Share     string `json:"share" required:"true" doc:"all, summary or none."`
	Agreement string `json:"agreement,omitempty" doc:"Staff only, required: on whose say, for example 'Sam told me at our meeting on 3 March'."`
	Version   int    `json:"version" doc:"The version you saw (0 when no choice was made yet): a stale one answers 409."`
}

// handoverSharing reads the referral's choice (a summary when none).
func handoverSharing(ctx context.Context, tx *store.Tx, referralID int64) (HandoverSharing, error) {
	h := HandoverSharing{ReferralID: referralID, Share: access.HistorySummary}
	var at time.Time
	err := tx.QueryRowContext(ctx, `SELECT hs.share, hs.by_person, COALESCE(u.name, ''), hs.agreement, hs.chosen_at, hs.version
		FROM handover_sharing hs LEFT JOIN users u ON u.id = hs.chosen_by_user_id WHERE hs.referral_id = $1`, referralID).
		Scan(&h.Share, &h.ByPerson, &h.ChosenBy, &h.Agreement, &at, &h.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return h, nil
	}
	at = at.UTC()
	h.Chosen, h.ChosenAt = true, &at
	return h, err
}

// mayRecordHandoverChoice is who may record the person's choice on their
// say: the referral's allocated worker and the leads of its team.
func mayRecordHandoverChoice(p *app.Principal, r *Referral) (app.Membership, bool) {
	if !p.Can(app.PermReferralWork) || r.Status.Closed() {
		return app.Membership{}, false
	}
	if m, ok := leadRole(p, r.TeamID); ok && r.TeamID != 0 {
		return m, true
	}
	if r.AllocatedWorkerID != 0 && r.AllocatedWorkerID == p.UserID {
		return roleIn(p, 0, app.RolePeerWorker, app.RolePeerLead)
	}
	return app.Membership{}, false
}

// ChooseHandoverSharing records what a new peer worker may see of the
// support so far: the person for their own open referral, or its allocated
// worker or a lead of its team on the person's say (Agreement required).
// The version must be the one the chooser saw (0 for the first choice): the
// write is conditional on it (an insert that must add the row, or an update
// of that version), so two choices at once cannot both win: the second
// answers 409. It is in the referral's history and the audit trail.
func (s *Service) ChooseHandoverSharing(ctx context.Context, p *app.Principal, referralID int64, in HandoverChoice) (HandoverSharing, error) {
	now := s.Clock.Now()
	in.Agreement = strings.TrimSpace(in.Agreement)
	var problems app.Problems
	if !app.HasChoice(HandoverShares, in.Share) {
		problems.Add("share", "Choose what a new peer worker may see")
	}
	problems.CheckLen("agreement", in.Agreement, 500, "On whose say")
	if err := problems.Err(); err != nil {
		return HandoverSharing{}, err
	}
	var out HandoverSharing
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := s.visibleReferral(ctx, tx, p, referralID, true)
		if err != nil {
			return err
		}
		byPerson := ownReferral(p, &r)
		var via app.Membership
		if byPerson {
			if r.Status.Closed() {
				return app.Errorf(app.CodeConflict, "This referral has closed")
			}
			via, _ = roleIn(p, 0, app.RolePerson, app.RoleCarer)
			in.Agreement = ""
		} else {
			var ok bool
			if via, ok = mayRecordHandoverChoice(p, &r); !ok {
				if seesSupport(p) {
					return app.Errorf(app.CodeForbidden, "The person chooses this, or their peer worker or team lead records it with their agreement")
				}
				return access.ErrNotVisible
			}
			if in.Agreement == "" {
				return app.Invalid(app.FieldError{Field: "agreement", Message: "Say on whose say this is recorded, for example when the person told you"})
			}
		}
		stale := app.Errorf(app.CodeConflict, "The choice was changed by someone else. Look at it again.")
		if in.Version == 0 {
			if err := tx.ExecOne(ctx, stale, `INSERT INTO handover_sharing (referral_id, person_id, share, chosen_by_user_id, by_person, agreement, chosen_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (referral_id) DO NOTHING`, r.ID, r.PersonID, in.Share, nullID(p.UserID), byPerson, in.Agreement, now); err != nil {
				return err
			}
		} else if err := tx.ExecOne(ctx, stale, `UPDATE handover_sharing SET share = $1, chosen_by_user_id = $2, by_person = $3, agreement = $4, chosen_at = $5,
			version = version + 1 WHERE referral_id = $6 AND version = $7`, in.Share, nullID(p.UserID), byPerson, in.Agreement, now, r.ID, in.Version); err != nil {
			return err
		}
		words := map[string]string{access.HistoryAll: "everything (earlier contacts and their notes)",
			access.HistorySummary: "a summary only (dates, how they met and the kinds of support; no notes)", access.HistoryNone: "nothing (a fresh start)"}[in.Share]
		note := "The person chose what a new peer worker sees of their support so far: " + words + "."
		if !byPerson {
			note = "Recorded on the person's say what a new peer worker sees of their support so far: " + words + ". " + in.Agreement
		}
		if err := addNote(ctx, tx, r.ID, p, via, now, note); err != nil {
			return err
		}
		if out, err = handoverSharing(ctx, tx, r.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor(p, via), audit.Event{Action: "referral.handover_sharing", SubjectPersonID: r.PersonID,
			ObjectType: "referral", ObjectID: fmt.Sprintf("%d:%s", r.ID, in.Share)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermReferralView, "referral.handover_sharing", "referral", referralID, "The referral")
	}
	return out, nil
}

// recordHandover records, in a move's transaction, each allocation of the
// referral to a peer worker, with the worker it came from: the one
// allocated now, or (by way of the waiting list) the last one allocated.
// From then on the new worker's reads of what others recorded before obey
// the person's choice whenever another worker had the referral before them
// (access.HandoverHistory); a first allocation narrows nothing. One row per
// allocation, so a worker handed it back a second time is narrowed up to
// the second time.
func recordHandover(ctx context.Context, tx *store.Tx, r *Referral, toWorker int64, now time.Time) error {
	if toWorker == 0 || toWorker == r.AllocatedWorkerID {
		return nil
	}
	from := r.AllocatedWorkerID
	if from == 0 {
		err := tx.QueryRowContext(ctx, `SELECT to_worker_id FROM referral_handovers WHERE referral_id = $1 ORDER BY handed_over_at DESC, id DESC LIMIT 1`, r.ID).Scan(&from)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO referral_handovers (referral_id, person_id, from_worker_id, to_worker_id, handed_over_at)
		VALUES ($1, $2, $3, $4, $5)`, r.ID, r.PersonID, nullID(from), toWorker, now)
	return err
}
