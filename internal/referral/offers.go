package referral

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Offer is one entry in the offers ledger: someone was told about peer
// support (or says they never were), and what they said.
type Offer struct {
	ID         int64     `json:"id"`
	PersonID   int64     `json:"person_id"`
	At         time.Time `json:"at"`
	Method     string    `json:"method"`
	Response   string    `json:"response"`
	RecordedBy string    `json:"recorded_by"`
	TeamName   string    `json:"team_name,omitempty"`
	ReferralID int64     `json:"referral_id,omitempty"`
	Note       string    `json:"note,omitempty"`
}

// OfferMethods are the ways staff tell someone about peer support.
var OfferMethods = []Reason{
	{Code: "conversation", Label: "In conversation"},
	{Code: "leaflet", Label: "Gave a leaflet"},
	{Code: "text_email", Label: "By text or email"},
	{Code: "review", Label: "At a care review"},
	{Code: "ward_discharge", Label: "At ward discharge"},
}

// OfferResponses are what the person said.
var OfferResponses = []Reason{
	{Code: "interested", Label: "Interested: refer now"},
	{Code: "not_now", Label: "Not now: ask again at the next review"},
	{Code: "declined", Label: "Declined"},
}

// MethodLabel names an offer method, including a person's own report.
func MethodLabel(code string) string {
	if code == "self_report" {
		return "Recorded by the person"
	}
	return ReasonLabel(OfferMethods, code)
}

// ResponseLabel names an offer response.
func ResponseLabel(code string) string {
	switch code {
	case "told":
		return "Says they were told about peer support"
	case "never_told":
		return "Says they have never been told about peer support"
	case "interested":
		return "Interested"
	}
	return ReasonLabel(OfferResponses, code)
}

// NewOffer records that peer support information was given.
type NewOffer struct {
	PersonID int64  `json:"person_id" required:"true" doc:"The person who was told."`
	Method   string `json:"method" required:"true" doc:"conversation, leaflet, text_email, review or ward_discharge"`
	Response string `json:"response" required:"true" doc:"interested (a referral is made at once, with consent), not_now or declined"`
	Note     string `json:"note,omitempty"`
	// AskedFor is used for the referral made when the person is interested.
	AskedFor string `json:"asked_for,omitempty" doc:"When interested: what the person would like support with. Optional."`
}

// OfferResult is a recorded offer and, when the person was interested, the
// referral made from it — or the open referral they already had, when the
// caller may see it (ReferralExisted says which).
type OfferResult struct {
	Offer           Offer     `json:"offer"`
	Referral        *Referral `json:"referral,omitempty"`
	ReferralExisted bool      `json:"referral_existed,omitempty" doc:"The person already had an open referral for peer support, so none was made."`
}

// CreateOffer records that a staff member told someone about peer
// support. "Interested" turns it into a referral in the same transaction,
// with the person's consent recorded as given (they just said yes) — or,
// if they already have an open referral, adds the offer to that one's
// history. That referral is returned only if the caller may see it: an
// offer never opens another team's referral to its recorder.
func (s *Service) CreateOffer(ctx context.Context, p *app.Principal, in NewOffer) (OfferResult, error) {
	now := s.Clock.Now()
	in.Note = strings.TrimSpace(in.Note)
	in.AskedFor = strings.TrimSpace(in.AskedFor)
	var problems app.Problems
	if in.PersonID == 0 {
		problems.Add("person_id", "Choose the person who was told")
	}
	if !hasReason(OfferMethods, in.Method) {
		problems.Add("method", "Choose how the person was told about peer support")
	}
	if !hasReason(OfferResponses, in.Response) {
		problems.Add("response", "Choose what the person said")
	}
	problems.CheckLen("note", in.Note, 1000, "The note")
	problems.CheckLen("asked_for", in.AskedFor, maxText, "This")
	if err := problems.Err(); err != nil {
		return OfferResult{}, err
	}
	via, _ := p.RoleFor(app.PermOfferCreate)
	var res OfferResult
	write := func(tx *store.Tx) error {
		res = OfferResult{}
		pe, err := person.Visible(ctx, tx, p, in.PersonID)
		if err != nil {
			return err
		}
		var referralID int64
		visible := false
		if in.Response == "interested" {
			open, seen, err := s.openReferral(ctx, tx, p, pe.ID)
			if err != nil {
				return err
			}
			switch {
			case open == 0:
				if referralID, err = s.referFromOffer(ctx, tx, p, via, pe, in, now); err != nil {
					return err
				}
				visible = true
			default:
				referralID, visible, res.ReferralExisted = open, seen, seen
				// The team that holds the referral hears that the person
				// said yes again, whoever told them.
				if err := addNote(ctx, tx, open, p, via, now, "Told about peer support again by "+p.Name+teamSuffix(via)+
					" ("+strings.ToLower(ReasonLabel(OfferMethods, in.Method))+"): interested."); err != nil {
					return err
				}
			}
		}
		res.Offer = Offer{PersonID: pe.ID, At: now, Method: in.Method, Response: in.Response, RecordedBy: p.Name,
			TeamName: via.TeamName, Note: in.Note}
		if err := tx.QueryRowContext(ctx, `INSERT INTO offers (person_id, recorded_by_user_id, team_id, at, method, response, referral_id, note, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $4) RETURNING id`, pe.ID, p.UserID, nullID(via.TeamID), now, in.Method, in.Response,
			nullID(referralID), in.Note).Scan(&res.Offer.ID); err != nil {
			return err
		}
		// Offer coverage counts this offer from the person's caseload spans.
		if err := caseload.Recount(ctx, tx, []int64{pe.ID}); err != nil {
			return err
		}
		if err := RefreshCaseloadFlags(ctx, tx, "offers", res.Offer.ID, nil); err != nil {
			return err
		}
		if visible {
			r, err := s.visibleReferral(ctx, tx, p, referralID, false)
			if err != nil {
				return err
			}
			res.Referral, res.Offer.ReferralID = &r, referralID
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermOfferCreate), audit.Event{
			Action: "offer.create", SubjectPersonID: pe.ID, ObjectType: "offer", ObjectID: fmt.Sprint(res.Offer.ID)})
	}
	err := s.DB.Write(ctx, write)
	if store.IsUniqueViolation(err) {
		// Another request made the person's open referral at the same
		// moment: now it exists, and this offer joins it.
		err = s.DB.Write(ctx, write)
	}
	if err != nil {
		return res, s.denied(ctx, err, p, app.PermOfferCreate, "offer.create", "person", in.PersonID, "The person")
	}
	return res, nil
}

// openReferral finds the person's open referral, if any, and whether the
// caller may see it. Only the id leaves this function; callers must not
// show anything of a referral the caller may not see.
func (s *Service) openReferral(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) (id int64, visible bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT id FROM referrals WHERE person_id = $1
		AND status IN ('received', 'accepted', 'allocated', 'active') LIMIT 1`, personID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	_, err = s.visibleReferral(ctx, tx, p, id, false)
	if errors.Is(err, access.ErrNotVisible) {
		return id, false, nil
	}
	return id, err == nil, err
}

func teamSuffix(m app.Membership) string {
	if m.TeamName == "" {
		return ""
	}
	return ", " + m.TeamName
}

// addNote adds a line to a referral's history without changing its
// status.
func addNote(ctx context.Context, tx *store.Tx, referralID int64, p *app.Principal, via app.Membership, now time.Time, note string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO referral_events (referral_id, at, actor_user_id, actor_role, from_status, to_status, note)
		SELECT id, $2, $3, $4, status, status, $5 FROM referrals WHERE id = $1`, referralID, now, p.UserID, string(via.Role), note)
	return err
}

func (s *Service) referFromOffer(ctx context.Context, tx *store.Tx, p *app.Principal, via app.Membership, pe person.Person, in NewOffer, now time.Time) (int64, error) {
	src := SourceStaff
	if via.Role == app.RolePartnerWorker {
		src = SourcePartner
	} else if via.Role == app.RolePeerWorker {
		src = SourceCommunity
	}
	asked := in.AskedFor
	if asked == "" {
		asked = "Said they were interested in peer support when told about it (" + strings.ToLower(ReasonLabel(OfferMethods, in.Method)) + ")."
	}
	var previous int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM referrals WHERE person_id = $1", pe.ID).Scan(&previous); err != nil {
		return 0, err
	}
	teamID := via.TeamID
	if src == SourcePartner {
		teamID = 0
	}
	metAt := ""
	if src == SourceCommunity {
		metAt = ReasonLabel(OfferMethods, in.Method)
	}
	id, _, err := s.insertReferral(ctx, tx, insertArgs{
		personID: pe.ID, teamID: teamID, referrerID: p.UserID, referrerTeamID: via.TeamID, previousID: previous, source: src,
		askedFor: asked, contactHow: pe.ContactPreference, contactWhen: pe.ContactTimes, metAt: metAt,
		// They said yes to this member of staff, who follows the referral
		// they asked for; the person can stop that from their account.
		consent: "given", personKnows: true, shareReferrer: true,
	}, app.Actor{UserID: p.UserID, Role: via.Role, TeamID: via.TeamID, RequestID: p.RequestID})
	return id, err
}

// offersFor lists the offers ledger of a person the caller may see. An
// offer names the referral it led to only when the caller may see that
// referral too.
func (s *Service) offersFor(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) ([]Offer, error) {
	a := store.NewArgs(personID)
	rows, err := tx.QueryContext(ctx, `SELECT o.id, o.person_id, o.at, o.method, o.response, COALESCE(u.name, 'The person'),
		COALESCE(t.name, ''), COALESCE((SELECT r.id FROM referrals r WHERE r.id = o.referral_id AND `+access.Referrals(p, a)+`), 0), o.note
		FROM offers o LEFT JOIN users u ON u.id = o.recorded_by_user_id LEFT JOIN teams t ON t.id = o.team_id
		WHERE o.person_id = $1 ORDER BY o.at DESC, o.id DESC LIMIT 100`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Offer{}
	for rows.Next() {
		var o Offer
		if err := rows.Scan(&o.ID, &o.PersonID, &o.At, &o.Method, &o.Response, &o.RecordedBy, &o.TeamName, &o.ReferralID, &o.Note); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ListOffers returns the offers ledger for one person the caller may see,
// audited as a read of their data.
func (s *Service) ListOffers(ctx context.Context, p *app.Principal, personID int64) ([]Offer, error) {
	var out []Offer
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		if _, err := person.Visible(ctx, tx, p, personID); err != nil {
			return err
		}
		var err error
		if out, err = s.offersFor(ctx, tx, p, personID); err != nil {
			return err
		}
		record(p.ActorFor(app.PermPersonRead), audit.Event{
			Action: "offer.list", SubjectPersonID: personID, ObjectType: "person", ObjectID: fmt.Sprint(personID)})
		return nil
	})
	if err != nil {
		return nil, s.denied(ctx, err, p, app.PermPersonRead, "offer.list", "person", personID, "The person")
	}
	return out, nil
}

// RecordOwnOffer lets a person say for themselves that they were told
// about peer support, or that they never were. The second is as important
// as the first: it is the gap the national survey asks about.
func (s *Service) RecordOwnOffer(ctx context.Context, p *app.Principal, told bool, note string) (Offer, error) {
	now := s.Clock.Now()
	note = strings.TrimSpace(note)
	var problems app.Problems
	problems.CheckLen("note", note, 1000, "The note")
	if err := problems.Err(); err != nil {
		return Offer{}, err
	}
	resp := "never_told"
	if told {
		resp = "told"
	}
	o := Offer{At: now, Method: "self_report", Response: resp, RecordedBy: "The person", Note: note}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		if o.PersonID, err = s.Accounts.OwnPerson(ctx, tx, p, now); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO offers (person_id, recorded_by_user_id, at, method, response, note, created_at)
			VALUES ($1, NULL, $2, 'self_report', $3, $4, $2) RETURNING id`, o.PersonID, now, resp, note).Scan(&o.ID); err != nil {
			return err
		}
		if err := caseload.Recount(ctx, tx, []int64{o.PersonID}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermOwnRecord), audit.Event{
			Action: "offer.self_report", SubjectPersonID: o.PersonID, ObjectType: "offer", ObjectID: fmt.Sprint(o.ID)})
	})
	return o, err
}

// WaitEstimate is how long people have recently waited, for the person
// waiting: the median and the longer end (90th percentile) of days from
// referral to first contact, over referrals first contacted in the last
// 180 days; Count says how many that is.
type WaitEstimate struct {
	MedianDays int `json:"median_days"`
	LongDays   int `json:"p90_days"`
	Count      int `json:"count"`
}

// EstimateWait summarises recent waits for a team (0: all teams).
func (s *Service) EstimateWait(ctx context.Context, teamID int64) (WaitEstimate, error) {
	since := s.Clock.Now().Add(-180 * 24 * time.Hour)
	rows, err := s.DB.Query(ctx, `SELECT received_at, first_contact_at FROM referrals
		WHERE first_contact_at IS NOT NULL AND first_contact_at >= $1 AND ($2 = 0 OR team_id = $2)`, since, teamID)
	if err != nil {
		return WaitEstimate{}, err
	}
	defer rows.Close()
	var days []float64
	for rows.Next() {
		var a, b time.Time
		if err := rows.Scan(&a, &b); err != nil {
			return WaitEstimate{}, err
		}
		days = append(days, b.Sub(a).Hours()/24)
	}
	if err := rows.Err(); err != nil || len(days) == 0 {
		return WaitEstimate{}, err
	}
	sort.Float64s(days)
	at := func(q float64) int { return int(days[int(q*float64(len(days)-1))] + 0.5) }
	return WaitEstimate{MedianDays: at(0.5), LongDays: at(0.9), Count: len(days)}, nil
}
