package web

import (
	"net/url"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/watch"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, riskTplCases) }

func tplAlert(resolved bool) alert.Alert {
	a := alert.Alert{ID: 8, Kind: alert.PossibleRisk, TeamID: 3, TeamName: "Leeds North CMHT", ReferralID: 42, PersonID: 7,
		Reference: "MUT-2026-0042", Detail: []string{"suicide", "means"}, RaisedAt: tEarlier, DueAt: tEarlier.Add(4 * time.Hour), Version: 1}
	if resolved {
		a.Resolved, a.ResolvedBy, a.Outcome, a.Note = &tNow, "Lee Brown", "called_person", "Spoke to them this afternoon"
	}
	return a
}

func riskTplCases() []tplCase {
	riskDetail := func() referral.Detail {
		d := tplDetail(referral.Received, referral.Accepted, referral.Declined)
		d.Referral.RiskAlertOpen, d.Referral.PossibleRisk, d.Referral.Urgency = true, true, referral.Urgent
		d.Referral.AskedFor = "I keep thinking about ending my life"
		d.Alerts = []alert.Alert{tplAlert(false)}
		d.Contact = &referral.ContactDetails{Phone: "07700900123", Email: "sam@example.org", Preference: "text", Times: "Evenings"}
		d.CanSetUrgency = true
		return d
	}
	m, _ := watch.Compile(watch.DefaultTerms)
	view := func(active string, respond bool) referralViewData {
		v := tplReferralView(riskDetail(), active)
		v.Urgencies, v.AlertOutcomes = urgencyOptions(), reasonOptions(alert.RiskOutcomes)
		v.AskedFor = watch.Highlight(v.Referral.AskedFor, m.Check(v.Referral.AskedFor))
		if respond {
			v.Respond = v.Alerts
		}
		return v
	}
	risky := tplReferral(referral.Received)
	risky.RiskAlertOpen, risky.PossibleRisk, risky.Urgency, risky.Overdue = true, true, referral.VeryUrgent, false
	list := referralListData{Page: referral.Page{Referrals: []referral.Referral{risky, tplReferral(referral.Accepted)}, Total: 2, Limit: 50},
		Teams: tplTeams(), StandardWk: 4, Pager: pager("/referrals", nil, 2, 50, 0, 2)}
	terms := watch.List{OrganisationID: 1, OrganisationName: "Test Trust", Terms: watch.DefaultTerms[:3]}
	own := terms
	own.Own, own.Terms = true, []watch.Term{{ID: 5, Phrase: "ending my life", Category: watch.Suicide, Action: watch.Flag}}
	set := alert.OrgSettings{OrganisationID: 1, OrganisationName: "Test Trust", Default: true, Settings: alert.DefaultSettings}
	settingsForm := ui.NewForm(url.Values{"respond_hours": {"4"}, "work_days": {"mon", "fri"}, "day_start": {"09:00"}, "day_end": {"17:00"}, "time_zone": {"Europe/London"}})
	safety := func(l watch.List, tf, sf *ui.Form) safetyOrgData {
		d := safetyOrgData{List: l, Settings: set, TermForm: tf, SettingsForm: sf, Days: reasonOptions(alert.DayOptions)}
		for _, c := range watch.Categories {
			d.Categories = append(d.Categories, ui.Option{Value: string(c), Label: c.Label()})
		}
		for _, a := range watch.Actions {
			d.Actions = append(d.Actions, ui.Option{Value: string(a), Label: a.Label()})
		}
		return d
	}
	return []tplCase{
		{page: "home", variant: "lead with an alert", pg: &ui.Page{Title: "Home", Data: homeData{Counts: referral.Counts{Waiting: 3, PossibleRisk: 1},
			AlertCounts: alert.Counts{Open: 2, Overdue: 1}, Can: map[string]bool{"read": true, "alerts": true, "triage": true},
			Links: homeLinks{Risk: listLink(referral.AtRiskFilter())}}},
			want:    []string{"2 possible-risk alerts are waiting", "1 is past the time to respond", "risk=1", `href="/alerts"`, "See the alerts and respond"},
			notWant: []string{"MUT-"}},
		{page: "home", variant: "service manager", pg: &ui.Page{Title: "Home", Data: homeData{Can: map[string]bool{"insight": true, "alerts": true},
			Manager: &managerGlance{Waiting: referral.Totals{Waiting: 40, Overdue: 12, Urgent: 2, VeryUrgent: 1}, Alerts: alert.Counts{Open: 2, Escalated: 1},
				Under: []string{"Ethnic group: Black Caribbean"}}}},
			want:    []string{"40</span> people are waiting: 1 very urgent, 2 urgent. 12 past", "1 was not answered in time", "Ethnic group: Black Caribbean", `href="/insight/equity"`, `href="/alerts"`},
			notWant: []string{`href="/referrals/`}},
		{page: "home", variant: "moderator, nothing waiting", pg: &ui.Page{Title: "Home", Data: homeData{Can: map[string]bool{}, Moderator: true}},
			want: []string{"Nothing is waiting for a moderator", `href="/help"`}},
		{page: "home", variant: "moderator, with the queue", pg: &ui.Page{Title: "Home", Data: homeData{Can: map[string]bool{}, Moderator: true, ModWaiting: 2, ModRisk: 1,
			Moderation: []community.QueueItem{{Post: community.Post{ID: 8, Author: "Quiet Heron"}, TopicTitle: "Rough night", SpaceName: "Living with voices", Risk: true,
				Flags: []community.Flag{{Kind: "risk", Label: "Watched words about risk"}}}}}},
			want: []string{"2 posts wait", "1 about possible risk", `href="/community/moderation/items/8"`, "Rough night", "Possible risk"}},
		{page: "alert/alerts", pg: &ui.Page{Title: "Alerts", Data: alertsData{Alerts: []alert.Alert{tplAlert(false)}, CanRespond: true}},
			want: []string{`href="/referrals/42"`, "MUT-2026-0042", "Waiting for a response", "Leeds North CMHT"}},
		{page: "alert/alerts", variant: "resolved", pg: &ui.Page{Title: "Alerts", Data: alertsData{Alerts: []alert.Alert{tplAlert(true)}, Resolved: true, CanRespond: true}},
			want: []string{"Contacted the person", "Lee Brown", "Answered"}},
		{page: "alert/alerts", variant: "manager", pg: &ui.Page{Title: "Alerts", Data: alertsData{Alerts: []alert.Alert{func() alert.Alert {
			a := tplAlert(false)
			a.Escalated = &tNow
			return a
		}()}, Manager: true}},
			want: []string{"Sent to the service managers", "You see the reference and the team"}, notWant: []string{`href="/referrals/42"`}},
		{page: "alert/alerts", variant: "none", pg: &ui.Page{Title: "Alerts", Data: alertsData{CanRespond: true}}, want: []string{"No alerts are waiting"}},
		{page: "safety/index", pg: &ui.Page{Title: "Risk words and alerts", Data: []account.Organisation{{ID: 1, Name: "Test Trust", Kind: account.OrgNHSTrust}}},
			want: []string{`href="/admin/organisations/1/safety"`}},
		{page: "safety/organisation", variant: "default list", pg: &ui.Page{Title: "Risk words and alerts: Test Trust",
			Data: safety(terms, ui.NewForm(url.Values{"action": {"flag"}}), settingsForm)},
			want:    []string{`action="/admin/organisations/1/watch-list"`, "Make a copy to change", `action="/admin/organisations/1/alert-settings"`, `value="mon" checked`, "suicide"},
			notWant: []string{"/delete"}},
		{page: "safety/organisation", variant: "own list, bad term", pg: &ui.Page{Title: "Risk words and alerts: Test Trust",
			Data: safety(own, withErrors(formOf("phrase", "ov*"), "phrase", "This phrase cannot be matched"), settingsForm)},
			want: []string{`action="/admin/organisations/1/watch-terms/5/delete"`, "This phrase cannot be matched", `value="ov*"`}},
		{page: "referral/referral", variant: "possible risk, lead", pg: &ui.Page{Title: "Referral MUT-2026-0042", Form: formOf("version", "3", "urgency", "urgent"),
			Data: view("", true)},
			want: []string{`action="/alerts/8/response"`, `name="alert_outcome"`, "Contacted the person", `<mark class="app-mark">ending my life</mark>`, "suicide and means of harm",
				`href="tel:07700900123"`, "Evenings", `action="/referrals/42/urgency"`, `name="urgency_reason"`, "Possible risk"}},
		{page: "referral/referral", variant: "possible risk, response failed", pg: &ui.Page{Title: "Referral MUT-2026-0042",
			Form: withErrors(formOf("version", "3", "alert_note", "Typed"), "alert_outcome", "Choose what you did"), Data: view("alert", true)},
			want: []string{`id="alert_outcome-error"`, "Typed"}},
		{page: "referral/referral", variant: "possible risk, worker", pg: &ui.Page{Title: "Referral MUT-2026-0042", Form: formOf("version", "3"),
			Data: view("", false)},
			want: []string{"have been alerted and will record what they did"}, notWant: []string{`action="/alerts/8/response"`}},
		{page: "referral/referrals", variant: "possible risk first", pg: &ui.Page{Title: "Referrals", Form: ui.NewForm(nil), Data: list, FullWidth: true},
			want: []string{"app-worklist__row--risk", "Very urgent", "Possible risk", "nhsuk-width-container-fluid", "Showing 1 to 2 of 2"}, notWant: []string{"nhsuk-pagination"}},
		{page: "referral/refer-received", variant: "help now", pg: &ui.Page{Title: "We have your request", HelpNow: "self-alerted",
			Data: referralDoneData{Reference: "MUT-7KQ3-X9PD"}},
			want: []string{"You can get help now", "Thank you for telling us", `href="tel:111"`, "read your request first", "85258"}},
		{page: "referral/referral-new", variant: "staff, urgency", pg: &ui.Page{Title: "Make a referral for peer support", Form: formOf("source", "staff", "urgency", "routine"),
			Data: referralFormData{formOptions: func() formOptions { o := tplFormOptions(); o.Urgencies = urgencyOptions(); return o }(),
				Source: referral.SourceStaff, AsksUrgency: true, Sources: []ui.Option{{Value: "staff", Label: "Staff"}}}},
			want: []string{`name="urgency"`, "First contact within 24 hours", `value="routine" checked`}, notWant: []string{`name="contact_how"`, `name="contact_when"`}},
		{page: "referral/referral-new", variant: "referrer help now", pg: &ui.Page{Title: "Make a referral for peer support", Form: formOf("source", "staff"), HelpNow: "referrer",
			Data: referralFormData{formOptions: tplFormOptions(), Source: referral.SourceStaff, Sources: []ui.Option{{Value: "staff", Label: "Staff"}}}},
			want: []string{"If they need help now", "suggests the person may be at risk"}, notWant: []string{"duty lead has been alerted"}},
	}
}
