package referral

import (
	"testing"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
)

// The full transition table, written out independently of the code's map:
// every pair of statuses is either allowed here or must be refused.
var allowed = map[[2]Status]bool{
	{Received, Accepted}: true, {Received, Declined}: true, {Received, Redirected}: true, {Received, Withdrawn}: true,
	{Accepted, Allocated}: true, {Accepted, Redirected}: true, {Accepted, Withdrawn}: true,
	{Allocated, Allocated}: true, {Allocated, Active}: true, {Allocated, Accepted}: true, {Allocated, Ended}: true, {Allocated, Withdrawn}: true,
	{Active, Allocated}: true, {Active, Ended}: true, {Active, Withdrawn}: true,
}

func validMove(to Status) Move {
	m := Move{To: to}
	switch to {
	case Declined:
		m.Reason = "person_declined"
	case Ended:
		m.Reason, m.OutcomeSummary, m.Ending = "goals_met", "Met weekly; back at college.", EndingPlanned
	case Redirected:
		m.RedirectedTo, m.RedirectMessage = "Recovery College", "They run a course that fits."
	case Allocated:
		m.WorkerID = 7
	}
	return m
}

func TestEveryTransition(t *testing.T) {
	for _, from := range Statuses {
		for _, to := range Statuses {
			m := validMove(to)
			err := m.Check(from)
			name := string(from) + "→" + string(to)
			if allowed[[2]Status{from, to}] {
				if err != nil {
					t.Errorf("%s refused: %v", name, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s allowed", name)
				continue
			}
			ae := app.As(err)
			if to == Received {
				if ae.Code != app.CodeInvalid {
					t.Errorf("%s: moving back to received should be invalid, got %v", name, err)
				}
				continue
			}
			if ae.Code != app.CodeConflict || ae.Message == "" {
				t.Errorf("%s: want a conflict with a reason, got %v", name, err)
			}
		}
	}
}

func TestMoveNeedsItsDetails(t *testing.T) {
	cases := []struct {
		name  string
		from  Status
		move  Move
		field string
	}{
		{"DeclineNeedsReason", Received, Move{To: Declined}, "reason"},
		{"DeclineUnknownReason", Received, Move{To: Declined, Reason: "bored"}, "reason"},
		{"OtherNeedsText", Received, Move{To: Declined, Reason: "other"}, "note"},
		{"RedirectNeedsWhere", Received, Move{To: Redirected, RedirectMessage: "x"}, "redirected_to"},
		{"RedirectNeedsMessage", Received, Move{To: Redirected, RedirectedTo: "x"}, "redirect_message"},
		{"AllocateNeedsWorker", Accepted, Move{To: Allocated}, "worker_id"},
		{"EndNeedsReason", Active, Move{To: Ended, OutcomeSummary: "x"}, "reason"},
		{"EndNeedsReplyForReferrer", Active, Move{To: Ended, Ending: EndingPlanned, Reason: "goals_met"}, "outcome_summary"},
		{"EndNeedsPlannedOrNot", Active, Move{To: Ended, Reason: "goals_met", OutcomeSummary: "x"}, "ending"},
		{"PlannedEndingCannotBeADeath", Active, Move{To: Ended, Ending: EndingPlanned, Reason: "died", OutcomeSummary: "x"}, "ending"},
		{"UnplannedEndingIsNotGoalsMet", Active, Move{To: Ended, Ending: EndingUnplanned, Reason: "goals_met", OutcomeSummary: "x"}, "ending"},
		{"WordsOnlyInAPlannedEnding", Active, Move{To: Ended, Ending: EndingUnplanned, Reason: "no_contact", OutcomeSummary: "x", WhatHelped: "y"}, "what_helped"},
		{"EndingOnlyWhenEnding", Active, Move{To: Withdrawn, Ending: EndingPlanned}, "ending"},
		{"UnknownStatus", Received, Move{To: "paused"}, "to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.move.Check(c.from)
			ae := app.As(err)
			if err == nil || ae.Code != app.CodeInvalid {
				t.Fatalf("got %v, want invalid", err)
			}
			found := false
			for _, f := range ae.Fields {
				found = found || f.Field == c.field
			}
			if !found {
				t.Fatalf("problems %+v do not name %s", ae.Fields, c.field)
			}
		})
	}
}

func TestFHIRMapping(t *testing.T) {
	want := map[Status]string{Received: "active", Accepted: "active", Allocated: "active", Active: "active",
		Ended: "completed", Declined: "revoked", Redirected: "revoked", Withdrawn: "revoked"}
	for st, f := range want {
		if st.FHIRStatus() != f {
			t.Errorf("%s → %s, want %s", st, st.FHIRStatus(), f)
		}
	}
}

func TestWithdrawFromEveryOpenStatus(t *testing.T) {
	for _, st := range Statuses {
		if st.Closed() {
			continue
		}
		if !CanMove(st, Withdrawn) {
			t.Errorf("cannot withdraw from %s", st)
		}
	}
}

// Lists of open referrals are a triage queue (possible risk waiting for a
// response, then urgency, then the longest waiting) sorted after fetching;
// lists that may hold the bulk of closed referrals follow the received_at
// index.
func TestListOrder(t *testing.T) {
	sorted := riskOpen + ", " + urgencyRank + ", COALESCE(r.received_at, r.received_at), r.id"
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{Filter{Statuses: []Status{Received, Accepted, Allocated}}, sorted},
		{Filter{Statuses: []Status{Active}}, sorted},
		{Filter{Overdue: true}, sorted},
		{Filter{WorkerID: 3}, sorted},
		{Filter{Risk: true}, sorted},
		{Filter{}, "r.received_at, r.id"},
		{Filter{Statuses: []Status{Ended}}, "r.received_at, r.id"},
		{Filter{Statuses: []Status{Accepted, Declined}}, "r.received_at, r.id"},
	} {
		if got := listOrder(c.f); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
}

// The access package writes the statuses of a waiting list and of an open
// referral into its scopes; they must be the lifecycle's own.
func TestAccessStatusesMatchTheLifecycle(t *testing.T) {
	same := func(name string, got []string, want []Status) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("access.%s = %v, want %v", name, got, want)
		}
		for i := range got {
			if got[i] != string(want[i]) {
				t.Fatalf("access.%s = %v, want %v", name, got, want)
			}
		}
	}
	same("Open", access.Open, Open)
	same("WaitingList", access.WaitingList, WaitingList)
	for _, st := range Open {
		if st.Closed() {
			t.Fatalf("%s is open and closed", st)
		}
	}
}

// The doors each role may use, written out: the form offers exactly these
// and the service accepts exactly these.
func TestSourcesForRoles(t *testing.T) {
	cases := map[app.Role][]Source{
		app.RolePerson:         {SourceSelf},
		app.RoleCarer:          {SourceCarer},
		app.RoleClinician:      {SourceStaff},
		app.RolePeerLead:       {SourceStaff, SourceCommunity},
		app.RolePeerWorker:     {SourceCommunity},
		app.RolePartnerWorker:  {SourcePartner},
		app.RoleModerator:      nil,
		app.RoleAnalyst:        nil,
		app.RoleServiceManager: nil,
		app.RoleAdmin:          nil,
	}
	for role, want := range cases {
		p := &app.Principal{Memberships: []app.Membership{{Role: role, TeamID: 1}}}
		got := SourcesFor(p)
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", role, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", role, got, want)
			}
		}
		for _, src := range Sources {
			_, _, err := sourceFor(p, src)
			allowed := false
			for _, w := range want {
				allowed = allowed || w == src
			}
			if allowed != (err == nil) {
				t.Errorf("%s asking for %s: %v", role, src, err)
			}
		}
	}
}
