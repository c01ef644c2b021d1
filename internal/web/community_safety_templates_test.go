package web

import (
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, communitySafetyTplCases) }

func communitySafetyTplCases() []tplCase {
	waiting := community.Safeguarding{ID: 4, PostID: 8, Member: "Quiet Heron", ReferralID: 42, Reference: "MUT-2026-0042", Reason: "Has the tablets ready",
		RaisedBy: "Mo Clarke", RaisedAt: tNow, Status: "waiting"}
	decided := waiting
	decided.Status, decided.DecidedBy, decided.DecidedRole, decided.DecidedAt, decided.DecisionReason = "confirmed", "Priya Shah", "Peer supervisor or team lead", &tNow, "Duty worker will call"
	q := community.QueueItem{Post: community.Post{ID: 8, TopicID: 3, Author: "Quiet Heron", Body: "Tonight", Status: "visible", CreatedAt: tNow},
		TopicTitle: "Tonight", SpaceName: "Living with voices", Flags: []community.Flag{}, WaitingFrom: tNow}
	item := community.Item{QueueItem: q, Context: []community.Post{}, History: []community.Flag{}, Escalations: []community.Escalation{}, WriterID: 12,
		Safeguarding: []community.Safeguarding{waiting}}
	inForce := community.Sanction{ID: 6, Kind: "read_only", Label: "Read-only", Reason: "Arguing", StartsAt: tNow, EndsAt: &tNow, InForce: true}
	lifted := community.Sanction{ID: 5, Kind: "suspended", Label: "Suspended", Reason: "Threats", StartsAt: tNow, EndsAt: &tNow, LiftedAt: &tNow, LiftReason: "Spoke with them"}
	sanctioned := item
	sanctioned.Consent, sanctioned.Safeguarding, sanctioned.Sanctions = true, []community.Safeguarding{}, []community.Sanction{inForce, lifted}
	levels := []ui.Option{{Value: "0", Label: "New member"}, {Value: "1", Label: "Member"}, {Value: "2", Label: "Trusted member"}}
	return []tplCase{
		{page: "community/item", variant: "without consent, a safeguarding concern waiting", pg: &ui.Page{Title: "Post by Quiet Heron",
			Form: errForm(formOf("level", "0", "safeguarding_reason", "x"), "safeguarding_reason", "Say why the risk means their care team should know"),
			Data: itemData{Item: item, Levels: levels}},
			want: []string{"Ask their care team to confirm", "Waiting for a peer lead or clinician of their team", "Say why the risk means", ">x</textarea>"}},
		{page: "community/item", variant: "sanctions, with an error", pg: &ui.Page{Title: "Post by Quiet Heron",
			Form: errForm(formOf("level", "1", "sanction_kind", "suspended", "sanction_reason", "Threats", "sanction_days", "x"), "sanction_days", "Give the days as a number, like 7"),
			Data: itemData{Item: sanctioned, Levels: levels}},
			want:    []string{"Apply sanction", "Read-only: Arguing", "In force", "Lift this sanction", "Lifted: Spoke with them", "Give the days as a number", `value="x"`},
			notWant: []string{"Ask their care team to confirm"}},
		{page: "community/suspended", pg: &ui.Page{Title: "You cannot enter the community's spaces for now", HelpNow: "self", Data: tNow},
			want: []string{"until <strong>", "116 123", "85258", "999", "NHS 111", `href="/community/sanctions"`}},
		{page: "community/sanctions", variant: "one appealed, one not", pg: &ui.Page{Title: "Your community sanctions", Data: mySanctionsData{
			Sanctions: []community.Sanction{inForce, lifted}, Appeals: map[int64]community.Appeal{6: {ID: 2, Status: "waiting", Words: "Unfair"}}}},
			want: []string{"Read-only", "waiting for a lead", `href="/community/sanctions/5/appeal"`, "Lifted: Spoke with them"}, notWant: []string{`href="/community/sanctions/6/appeal"`}},
		{page: "community/sanctions", variant: "none", pg: &ui.Page{Title: "Your community sanctions", Data: mySanctionsData{Sanctions: []community.Sanction{}}},
			want: []string{"You have no sanctions"}},
		{page: "community/appeal", pg: &ui.Page{Title: "Appeal against a sanction", Form: errForm(formOf("words", ""), "words", "Say why you think the sanction is wrong"), Data: inForce},
			want: []string{"Send appeal", "Say why you think", "Read-only: Arguing"}},
		{page: "community/appeals", variant: "waiting", pg: &ui.Page{Title: "Appeals against community sanctions", Data: []community.Appeal{{ID: 2, Sanction: inForce, Member: "Quiet Heron", Words: "Unfair", CreatedAt: tNow, Status: "waiting"}}},
			want: []string{`href="/community/appeals/2"`, "Quiet Heron: Read-only", "Unfair"}},
		{page: "community/appeals", variant: "empty", pg: &ui.Page{Title: "Appeals against community sanctions", Data: []community.Appeal{}}, want: []string{"No appeals are waiting"}},
		{page: "community/appeal-decide", variant: "to decide", pg: &ui.Page{Title: "Appeal from Quiet Heron", Form: errForm(formOf("outcome", "overturn"), "reason", "Say why: the member is told"),
			Data: appealData{Appeal: community.Appeal{ID: 2, Sanction: inForce, Member: "Quiet Heron", Words: "Unfair", CreatedAt: tNow, Status: "waiting"}, MayDecide: true}},
			want: []string{"Record decision", "Say why: the member is told", "Arguing", "Unfair"}},
		{page: "community/appeal-decide", variant: "the sanctioner", pg: &ui.Page{Title: "Appeal from Quiet Heron", Form: formOf(),
			Data: appealData{Appeal: community.Appeal{ID: 2, Sanction: inForce, Member: "Quiet Heron", Words: "Unfair", CreatedAt: tNow, Status: "waiting"}}},
			want: []string{"another lead must decide"}, notWant: []string{"Record decision"}},
		{page: "community/rota", pg: &ui.Page{Title: "Moderators' duty rota", Form: errForm(formOf("moderator_id", "12", "from-time", "18:00"), "to", "Give when the duty ends"),
			Data: struct {
				Rota       community.Rota
				Moderators []ui.Option
			}{community.Rota{Periods: []community.DutyPeriod{{ID: 3, ModeratorID: 12, Moderator: "Mo Clarke", From: tNow, To: tNow}}}, []ui.Option{{Value: "12", Label: "Mo Clarke"}}}},
			want: []string{"Mo Clarke", "Add to the rota", "Give when the duty ends", `value="18:00"`, `action="/community/rota/3/remove"`}},
		{page: "community/space", variant: "no moderator on duty", pg: &ui.Page{Title: "Living with voices", Form: formOf(), Data: spaceData{
			Space: community.Space{ID: 2, Name: "Living with voices", Duty: &community.Duty{Next: &tNow}}}},
			want: []string{"No moderators are online now. Posts may wait until", "116 123", "85258", "999", "option 2"}},
		{page: "community/space", variant: "a moderator on duty", pg: &ui.Page{Title: "Living with voices", Form: formOf(), Data: spaceData{
			Space: community.Space{ID: 2, Name: "Living with voices", Duty: &community.Duty{OnDuty: true}}}},
			notWant: []string{"No moderators are online"}},
		{page: "community/safeguarding-list", variant: "waiting", pg: &ui.Page{Title: "Safeguarding concerns from the community", Data: []community.Safeguarding{waiting}},
			want: []string{"Quiet Heron, referral MUT-2026-0042", "Has the tablets ready", `href="/community/safeguarding/4"`}},
		{page: "community/safeguarding-list", variant: "empty", pg: &ui.Page{Title: "Safeguarding concerns from the community", Data: []community.Safeguarding{}},
			want: []string{"No concerns are waiting"}},
		{page: "community/safeguarding", variant: "to decide, with an error", pg: &ui.Page{Title: "Safeguarding concern about Quiet Heron",
			Form: errForm(formOf("action", "confirm", "reason", ""), "reason", "Say why: it is recorded with your decision"),
			Data: safeguardingData{Concern: waiting, MayDecide: true}},
			want: []string{"Yes, confirm", "No, decline", "Say why: it is recorded", "Has the tablets ready", `href="/referrals/42"`}},
		{page: "community/safeguarding", variant: "raised by the reader", pg: &ui.Page{Title: "Safeguarding concern about Quiet Heron", Form: formOf(),
			Data: safeguardingData{Concern: waiting}}, want: []string{"someone else must decide"}, notWant: []string{"Record decision"}},
		{page: "community/safeguarding", variant: "decided", pg: &ui.Page{Title: "Safeguarding concern about Quiet Heron", Form: formOf(),
			Data: safeguardingData{Concern: decided}}, want: []string{"Confirmed: the care team was alerted", "Priya Shah", "Duty worker will call"}, notWant: []string{"Record decision"}},
	}
}
