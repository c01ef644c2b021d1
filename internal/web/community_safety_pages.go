package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// communitySafetyRoutes are the community's safeguarding: a moderator's
// concern about a member who has not agreed to their care team being told,
// and the peer lead's or clinician's confirmation it needs. One line per
// route.
func (s *Server) communitySafetyRoutes() []*Route {
	return []*Route{
		pageRoute("POST /community/moderation/items/{id}/safeguarding", app.PermModerate, s.handleSafeguardingRaise),
		personPage("GET /community/safeguarding", app.PermSafeguarding, s.handleSafeguardingList),
		personPage("GET /community/safeguarding/{id}", app.PermSafeguarding, byID(s.safeguardingPage)),
		pageRoute("POST /community/safeguarding/{id}/decision", app.PermSafeguarding, s.handleSafeguardingDecision),

		apiRoute("POST /api/v1/moderation/items/{id}/safeguarding", app.PermModerate, opSafeguardingRaise, s.apiSafeguardingRaise),
		personAPI("GET /api/v1/community/safeguarding", app.PermSafeguarding, opSafeguardingList, s.apiSafeguardingList),
		personAPI("GET /api/v1/community/safeguarding/{id}", app.PermSafeguarding, opSafeguardingView, s.apiSafeguardingView),
		apiRoute("POST /api/v1/community/safeguarding/{id}/decision", app.PermSafeguarding, opSafeguardingDecision, s.apiSafeguardingDecision),

		pageRoute("POST /community/members/{id}/sanctions", app.PermModerate, s.handleSanctionApply),
		pageRoute("POST /community/sanctions/{id}/lift", app.PermModerate, s.handleSanctionLift),
		apiRoute("POST /api/v1/community/members/{id}/sanctions", app.PermModerate, opSanctionApply, s.apiSanctionApply),
		apiRoute("POST /api/v1/community/sanctions/{id}/lift", app.PermModerate, opSanctionLift, s.apiSanctionLift),
		apiRoute("GET /api/v1/community/my-sanctions", app.PermSignedIn, opMySanctions, s.apiMySanctions),

		pageRoute("GET /community/sanctions", app.PermSignedIn, s.handleMySanctions),
		pageRoute("GET /community/sanctions/{id}/appeal", app.PermSignedIn, s.handleAppealForm),
		pageRoute("POST /community/sanctions/{id}/appeal", app.PermSignedIn, s.handleAppeal),
		pageRoute("GET /community/appeals", app.PermCommunityLead, s.handleAppeals),
		pageRoute("GET /community/appeals/{id}", app.PermCommunityLead, byID(s.appealPage)),
		pageRoute("POST /community/appeals/{id}/decision", app.PermCommunityLead, s.handleAppealDecision),
		apiRoute("POST /api/v1/community/sanctions/{id}/appeal", app.PermSignedIn, opAppeal, s.apiAppeal),
		apiRoute("GET /api/v1/community/appeals", app.PermCommunityLead, opAppeals, s.apiAppeals),
		apiRoute("GET /api/v1/community/appeals/{id}", app.PermCommunityLead, opAppealView, s.apiAppealView),
		apiRoute("POST /api/v1/community/appeals/{id}/decision", app.PermCommunityLead, opAppealDecision, s.apiAppealDecision),

		pageRoute("GET /community/rota", app.PermCommunityLead, s.handleRota),
		pageRoute("POST /community/rota", app.PermCommunityLead, s.handleRotaAdd),
		pageRoute("POST /community/rota/{id}/remove", app.PermCommunityLead, s.handleRotaRemove),
		apiRoute("GET /api/v1/community/rota", app.PermCommunityLead, opRota, s.apiRota),
		apiRoute("POST /api/v1/community/rota", app.PermCommunityLead, opRotaAdd, s.apiRotaAdd),
		apiRoute("DELETE /api/v1/community/rota/{id}", app.PermCommunityLead, opRotaRemove, s.apiRotaRemove),
	}
}

// SafeguardingList is GET /api/v1/community/safeguarding.
type SafeguardingList struct {
	Concerns []community.Safeguarding `json:"concerns"`
}

var exampleSafeguarding = community.Safeguarding{ID: 4, PostID: 81, Member: "Quiet Heron", ReferralID: 42, Reference: "MUT-2026-0042",
	Reason: "Says they have the tablets ready for tonight.", RaisedBy: "Mo Clarke", RaisedAt: exampleTime, Status: "waiting"}

var opSafeguardingRaise = APIOp{Summary: "Raise a safeguarding concern about a writer who has not agreed to their care team being told", Tag: "Moderation",
	Query: id, Status: http.StatusCreated,
	Description: "Nothing is sent yet: the concern waits for a peer lead or clinician of the writer's team, who confirms or declines it with a reason. " +
		"The writer must have an open referral with a team. A writer who agreed is 409 (record a concern instead); so is a second concern while one waits.",
	Request: community.NewSafeguarding{Reason: "Says they have the tablets ready for tonight."}, Response: exampleSafeguarding}

var opSafeguardingList = APIOp{Summary: "Safeguarding concerns waiting for your decision", Tag: "Moderation",
	Description: "Concerns about members of the teams you lead or are a clinician in, raised by someone else. Audited, naming each person.",
	Response:    SafeguardingList{Concerns: []community.Safeguarding{exampleSafeguarding}}}

var opSafeguardingView = APIOp{Summary: "One safeguarding concern", Tag: "Moderation", Query: id, Response: exampleSafeguarding}

var opSafeguardingDecision = APIOp{Summary: "Confirm or decline a safeguarding concern, with a reason", Tag: "Moderation", Query: id,
	Description: "Confirm alerts the team's duty leads (the referral's reference and a link, never the post) and tells the member; decline sends nothing. " +
		"The moderator who raised it cannot decide (403); a concern someone has already decided is 409.",
	Request: community.SafeguardingDecision{Action: "confirm", Reason: "A plan and the means: the duty worker will call today."},
	Response: func() community.Safeguarding {
		g := exampleSafeguarding
		g.Status, g.DecidedBy, g.DecidedRole, g.DecidedAt, g.DecisionReason = "confirmed", "Priya Shah", "Peer supervisor or team lead", &exampleTime,
			"A plan and the means: the duty worker will call today."
		return g
	}()}

func (s *Server) handleSafeguardingRaise(w http.ResponseWriter, r *http.Request) error {
	return s.moderatorForm(w, r, func(f *ui.Form, id int64) (string, error) {
		f.Values.Set("post_id", strconv.FormatInt(id, 10))
		_, err := s.community.RaiseSafeguarding(r.Context(), principal(r), id, community.NewSafeguarding{Reason: f.Value("safeguarding_reason")})
		err = prefixFields(err, "safeguarding_")
		return "Safeguarding concern recorded. Nothing has been sent: a peer lead or clinician of the member's team will decide", err
	})
}

func (s *Server) handleSafeguardingList(w http.ResponseWriter, r *http.Request) error {
	l, err := s.community.SafeguardingWaiting(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "community/safeguarding-list", &ui.Page{Title: "Safeguarding concerns from the community", Data: l})
}

type safeguardingData struct {
	Concern   community.Safeguarding
	MayDecide bool
}

func (s *Server) safeguardingPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	g, err := s.community.SafeguardingConcern(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	if f == nil {
		f = ui.NewForm(url.Values{})
	}
	return s.page(w, r, status, "community/safeguarding", &ui.Page{Title: "Safeguarding concern about " + g.Member, Form: f,
		BackLink: "/community/safeguarding", Data: safeguardingData{Concern: g, MayDecide: g.MayDecide(principal(r))}})
}

func (s *Server) handleSafeguardingDecision(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	g, err := s.community.DecideSafeguarding(r.Context(), principal(r), id, community.SafeguardingDecision{Action: f.Value("action"), Reason: f.Value("reason")})
	if err != nil {
		if err := formProblem(f, err, app.CodeConflict, app.CodeForbidden); err != nil {
			return err
		}
		return s.safeguardingPage(w, r, app.As(err).Code.Status(), id, f)
	}
	if g.Status == "confirmed" {
		setFlash(w, "Confirmed. The team's duty leads have been alerted and the member has been told")
	} else {
		setFlash(w, "Declined. Nothing has been sent to the care team; the moderators follow up in the community")
	}
	return redirect(w, r, "/community/safeguarding")
}

func (s *Server) apiSafeguardingRaise(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.NewSafeguarding
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, err := s.community.RaiseSafeguarding(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, g)
}

func (s *Server) apiSafeguardingList(w http.ResponseWriter, r *http.Request) error {
	l, err := s.community.SafeguardingWaiting(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SafeguardingList{Concerns: l})
}

func (s *Server) apiSafeguardingView(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	g, err := s.community.SafeguardingConcern(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (s *Server) apiSafeguardingDecision(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.SafeguardingDecision
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, err := s.community.DecideSafeguarding(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

// SanctionList is GET /api/v1/community/my-sanctions.
type SanctionList struct {
	Sanctions []community.Sanction `json:"sanctions"`
	Appeals   []community.Appeal   `json:"appeals" doc:"Your appeals against them."`
}

var exampleSanction = community.Sanction{ID: 6, Kind: "read_only", Label: "Read-only", Reason: "Repeated arguments after a warning.", StartsAt: exampleTime,
	EndsAt: &exampleTime, InForce: true}

var opSanctionApply = APIOp{Summary: "Apply a sanction to a member, with a reason and an end", Tag: "Moderation", Query: id, Status: http.StatusCreated,
	Description: "warning (no end), held (every post waits for a moderator), read_only (no posts or reactions; reading and flagging stay open) or " +
		"suspended (the spaces are closed). It ends by itself after days; the member is told why and until when.",
	Request: community.NewSanction{Kind: "read_only", Reason: "Repeated arguments after a warning.", Days: 7}, Response: exampleSanction}

var opSanctionLift = APIOp{Summary: "Lift a sanction early, with a reason", Tag: "Moderation", Query: id,
	Description: "The member is told. A sanction already ended or lifted is 409.",
	Request:     community.Lift{Reason: "Spoke with them; they understand."}, Response: exampleSanction}

var opMySanctions = APIOp{Summary: "Your own community sanctions, newest first", Tag: "Community",
	Response: SanctionList{Sanctions: []community.Sanction{exampleSanction}, Appeals: []community.Appeal{exampleAppeal}}}

func (s *Server) handleSanctionApply(w http.ResponseWriter, r *http.Request) error {
	return s.moderatorForm(w, r, func(f *ui.Form, id int64) (string, error) {
		days, _ := strconv.Atoi(f.Value("sanction_days"))
		if f.Value("sanction_days") != "" && days == 0 {
			return "", app.Invalid(app.FieldError{Field: "sanction_days", Message: "Give the days as a number, like 7"})
		}
		_, err := s.community.ApplySanction(r.Context(), principal(r), id, community.NewSanction{Kind: f.Value("sanction_kind"),
			Reason: f.Value("sanction_reason"), Days: days})
		return "Sanction applied. The member has been told why and until when", prefixFields(err, "sanction_")
	})
}

func (s *Server) handleSanctionLift(w http.ResponseWriter, r *http.Request) error {
	return s.moderatorForm(w, r, func(f *ui.Form, id int64) (string, error) {
		f.Values.Set("sanction_id", strconv.FormatInt(id, 10))
		_, err := s.community.LiftSanction(r.Context(), principal(r), id, community.Lift{Reason: f.Value("lift_reason")})
		return "Sanction lifted. The member has been told", err
	})
}

// prefixFields names an error's fields as the form on a shared page does.
func prefixFields(err error, prefix string) error {
	ae := app.As(err)
	if err == nil || ae.Code != app.CodeInvalid {
		return err
	}
	for i := range ae.Fields {
		ae.Fields[i].Field = prefix + ae.Fields[i].Field
	}
	return ae
}

func (s *Server) apiSanctionApply(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.NewSanction
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sn, err := s.community.ApplySanction(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sn)
}

func (s *Server) apiSanctionLift(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.Lift
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sn, err := s.community.LiftSanction(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sn)
}

func (s *Server) apiMySanctions(w http.ResponseWriter, r *http.Request) error {
	l, err := s.community.MySanctions(r.Context(), principal(r))
	if err != nil {
		return err
	}
	as, err := s.community.MyAppeals(r.Context(), principal(r))
	if err != nil {
		return err
	}
	out := SanctionList{Sanctions: l, Appeals: []community.Appeal{}}
	for _, sn := range l {
		if a, ok := as[sn.ID]; ok {
			out.Appeals = append(out.Appeals, a)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// suspendedPage tells a suspended member until when, and how to appeal,
// with where to get help now.
func (s *Server) suspendedPage(w http.ResponseWriter, r *http.Request, until time.Time) error {
	return s.page(w, r, http.StatusForbidden, "community/suspended", &ui.Page{Title: "You cannot enter the community's spaces for now",
		HelpNow: "self", Data: until})
}

// AppealList is GET /api/v1/community/appeals.
type AppealList struct {
	Appeals []community.Appeal `json:"appeals"`
}

var exampleAppeal = community.Appeal{ID: 2, Sanction: exampleSanction, Member: "Quiet Heron", Words: "I was standing up for someone.",
	CreatedAt: exampleTime, Status: "waiting"}

var opAppeal = APIOp{Summary: "Appeal against one of your sanctions", Tag: "Community", Query: id, Status: http.StatusCreated,
	Description: "Once per sanction: a second is 409. A lead who did not apply it decides, and you are told.",
	Request:     community.NewAppeal{Words: "I was standing up for someone."}, Response: exampleAppeal}

var opAppeals = APIOp{Summary: "Appeals waiting for a lead", Tag: "Moderation",
	Description: "Oldest first, leaving out appeals against sanctions you applied.", Response: AppealList{Appeals: []community.Appeal{exampleAppeal}}}

var opAppealView = APIOp{Summary: "One appeal", Tag: "Moderation", Query: id, Response: exampleAppeal}

var opAppealDecision = APIOp{Summary: "Uphold or overturn an appeal, with a reason", Tag: "Moderation", Query: id,
	Description: "Overturning lifts the sanction; the member is told either way. The moderator who applied the sanction cannot decide (403); an appeal already decided is 409.",
	Request:     community.AppealDecision{Outcome: "overturn", Reason: "They were standing up for someone."},
	Response: func() community.Appeal {
		a := exampleAppeal
		a.Status, a.DecidedAt, a.DecisionReason = "overturned", &exampleTime, "They were standing up for someone."
		return a
	}()}

type mySanctionsData struct {
	Sanctions []community.Sanction
	Appeals   map[int64]community.Appeal
}

func (s *Server) handleMySanctions(w http.ResponseWriter, r *http.Request) error {
	l, err := s.community.MySanctions(r.Context(), principal(r))
	if err != nil {
		return err
	}
	as, err := s.community.MyAppeals(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "community/sanctions", &ui.Page{Title: "Your community sanctions", BackLink: "/community",
		Data: mySanctionsData{Sanctions: l, Appeals: as}})
}

func (s *Server) appealFormPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	l, err := s.community.MySanctions(r.Context(), principal(r))
	if err != nil {
		return err
	}
	for _, sn := range l {
		if sn.ID == id {
			return s.page(w, r, status, "community/appeal", &ui.Page{Title: "Appeal against a sanction", Form: f, BackLink: "/community/sanctions", Data: sn})
		}
	}
	return app.NotFound("The sanction")
}

func (s *Server) handleAppealForm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.appealFormPage(w, r, http.StatusOK, id, ui.NewForm(url.Values{}))
}

func (s *Server) handleAppeal(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	if _, err := s.community.AppealSanction(r.Context(), principal(r), id, community.NewAppeal{Words: f.Value("words")}); err != nil {
		if err := formProblem(f, err, app.CodeConflict, app.CodeForbidden); err != nil {
			return err
		}
		return s.appealFormPage(w, r, app.As(err).Code.Status(), id, f)
	}
	setFlash(w, "Your appeal is with a lead. You will be told what they decide")
	return redirect(w, r, "/community/sanctions")
}

func (s *Server) handleAppeals(w http.ResponseWriter, r *http.Request) error {
	l, err := s.community.AppealsWaiting(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "community/appeals", &ui.Page{Title: "Appeals against community sanctions", Data: l})
}

type appealData struct {
	Appeal    community.Appeal
	MayDecide bool
}

func (s *Server) appealPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	a, err := s.community.AppealFor(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	if f == nil {
		f = ui.NewForm(url.Values{})
	}
	return s.page(w, r, status, "community/appeal-decide", &ui.Page{Title: "Appeal from " + a.Member, Form: f, BackLink: "/community/appeals",
		Data: appealData{Appeal: a, MayDecide: a.MayDecide(principal(r))}})
}

func (s *Server) handleAppealDecision(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	a, err := s.community.DecideAppeal(r.Context(), principal(r), id, community.AppealDecision{Outcome: f.Value("outcome"), Reason: f.Value("reason")})
	if err != nil {
		if err := formProblem(f, err, app.CodeConflict, app.CodeForbidden); err != nil {
			return err
		}
		return s.appealPage(w, r, app.As(err).Code.Status(), id, f)
	}
	if a.Status == "overturned" {
		setFlash(w, "Overturned. The sanction is lifted and the member has been told")
	} else {
		setFlash(w, "Upheld. The member has been told why")
	}
	return redirect(w, r, "/community/appeals")
}

func (s *Server) apiAppeal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.NewAppeal
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.community.AppealSanction(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, a)
}

func (s *Server) apiAppeals(w http.ResponseWriter, r *http.Request) error {
	l, err := s.community.AppealsWaiting(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, AppealList{Appeals: l})
}

func (s *Server) apiAppealView(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.community.AppealFor(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiAppealDecision(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.AppealDecision
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.community.DecideAppeal(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

var exampleDuty = community.DutyPeriod{ID: 3, ModeratorID: 12, Moderator: "Mo Clarke", From: exampleTime, To: exampleTime.Add(8 * time.Hour)}

var opRota = APIOp{Summary: "The moderators' duty rota of your organisation", Tag: "Moderation",
	Response: community.Rota{Periods: []community.DutyPeriod{exampleDuty}, Moderators: []app.Choice{{Code: "12", Label: "Mo Clarke"}}}}

var opRotaAdd = APIOp{Summary: "Put a moderator on duty", Tag: "Moderation", Status: http.StatusCreated,
	Description: "From and to in UTC; at most 7 days; it must end in the future. The space pages say when no moderator is on duty.",
	Request:     community.NewDuty{ModeratorID: 12, From: exampleTime, To: exampleTime.Add(8 * time.Hour)}, Response: exampleDuty}

var opRotaRemove = APIOp{Summary: "Take a duty period off the rota", Tag: "Moderation", Query: id, Status: http.StatusNoContent}

func (s *Server) rotaPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	rota, err := s.community.Rota(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, status, "community/rota", &ui.Page{Title: "Moderators' duty rota", Form: f,
		Data: struct {
			Rota       community.Rota
			Moderators []ui.Option
		}{rota, choiceOptions(rota.Moderators)}})
}

func (s *Server) handleRota(w http.ResponseWriter, r *http.Request) error {
	return s.rotaPage(w, r, http.StatusOK, ui.NewForm(url.Values{}))
}

func (s *Server) handleRotaAdd(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var pr app.Problems
	from := formDateTime(f, "from", time.Time{}, &pr)
	to := formDateTime(f, "to", time.Time{}, &pr)
	mod, _ := strconv.ParseInt(f.Value("moderator_id"), 10, 64)
	err = pr.Err()
	if err == nil {
		_, err = s.community.AddDuty(r.Context(), principal(r), community.NewDuty{ModeratorID: mod, From: from, To: to})
	}
	if err != nil {
		if !formWithErrors(f, err) {
			return err
		}
		return s.rotaPage(w, r, http.StatusUnprocessableEntity, f)
	}
	setFlash(w, "Added to the rota")
	return redirect(w, r, "/community/rota")
}

func (s *Server) handleRotaRemove(w http.ResponseWriter, r *http.Request) error {
	id, _, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	if err := s.community.RemoveDuty(r.Context(), principal(r), id); err != nil {
		return err
	}
	setFlash(w, "Taken off the rota")
	return redirect(w, r, "/community/rota")
}

func (s *Server) apiRota(w http.ResponseWriter, r *http.Request) error {
	rota, err := s.community.Rota(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rota)
}

func (s *Server) apiRotaAdd(w http.ResponseWriter, r *http.Request) error {
	var in community.NewDuty
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := s.community.AddDuty(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, d)
}

func (s *Server) apiRotaRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.community.RemoveDuty(r.Context(), principal(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
