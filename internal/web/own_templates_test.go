package web

import (
	"github.com/mutualhq/mutual/internal/datarights"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, ownTplCases) }

func ownTplCases() []tplCase {
	r := tplReferral(referral.Allocated)
	r.Consent, r.ProceedReason, r.ProceedByName, r.ProceedAt = "not_obtained", "Their advocate asked us to begin", "Lee Brown", &tNow
	d := tplDetail(referral.Allocated)
	mine := referral.MyReferral{Referral: r, History: d.History, Contacts: d.Contacts, CanChangeSharing: true}
	mine.Own = referral.OwnReferral{ID: 42, Reference: r.Reference, Status: r.Status, StatusText: "Priya, a peer support worker, will be in touch to arrange a first meeting.",
		TeamName: r.TeamName, WorkerFirstName: "Priya", PersonName: r.PersonName, MadeBy: "Dr Ada Jones", ReceivedAt: r.ReceivedAt, AskedFor: r.AskedFor,
		Agreement: "not_obtained", ProceedReason: r.ProceedReason, ProceedBy: "Lee Brown", ProceedAt: &tNow, ShareWithReferrer: true,
		ReferrerCanFollow: true, SharingChangedAt: &tNow, Version: 3}
	mine.Steps = referral.OwnSteps(r, d.History, false)
	ended := mine
	ended.CanChangeSharing = false
	ended.Own.Status, ended.Own.Closed, ended.Own.CanSayWhatHelped, ended.Own.Ending = referral.Ended, true, true, referral.EndingPlanned
	limited := referral.MyReferral{Limited: true, MadeByMe: true, Own: referral.OwnReferral{ID: 43, Reference: "MUT-2026-0043", PersonName: "Alex", MadeBy: "You", ReceivedAt: tEarlier}}
	copyOf := datarights.Copy{GeneratedAt: tNow, PersonID: 7, Sections: []datarights.Section{
		{Name: "Your details", Records: []any{person.ExportedPerson{RecordID: 7, PreferredName: "Sam", Email: "sam@example.org", Created: tEarlier,
			Changes: []person.Change{{At: tNow, ChangedBy: "You", Field: "phone", Label: "Phone number", Old: "07700900982", New: "07700900983"}}}}},
		{Name: "Referrals and being told about peer support", Records: []any{referral.ExportedReferrals{Referrals: []referral.ExportedReferral{
			{Reference: "MUT-2026-0042", Door: "Staff", Status: "Peer worker allocated", AskedFor: "Someone to talk to", Received: tEarlier, YouKnew: true,
				History: []referral.Event{{At: tEarlier, ActorName: "Dr Ada Jones", ActorRole: "Care co-ordinator or clinician", To: referral.Received}}, Contacts: []referral.Contact{}}},
			Offers: []referral.Offer{}}}},
		{Name: "Copies of your data", Records: []any{[]datarights.CopyMade{{At: tNow, Kind: "A subject access copy made by staff", By: "Lee Brown", Reason: "SAR of 3 March"}}}},
	}}
	secs, err := readableCopy(copyOf)
	if err != nil {
		panic(err)
	}
	return []tplCase{
		{page: "own/claim", pg: &ui.Page{Title: "Find your record", Form: formOf("code", "", "email", "sam@example.org"), Data: claimData{}},
			want: []string{`action="/my/claim"`, `action="/my/claim/code"`, `name="code"`, "printed code"}},
		{page: "own/claim", variant: "code sent, wrong code", pg: &ui.Page{Title: "Find your record",
			Form: withErrors(formOf("code", "ABCD"), "code", "This code is not right"), Data: claimData{CodeSent: true}},
			want: []string{"we have sent a code", "This code is not right"}},
		{page: "own/claim-printed", pg: &ui.Page{Title: "A code to claim their record", BackLink: "/people/7",
			Data: person.ClaimInvitation{PersonID: 7, How: "print", Code: "ABCD-EFGH-JKMN", SignUpURL: "https://mutual.test/sign-up", ExpiresAt: tNow}},
			want: []string{"ABCD-EFGH-JKMN", "https://mutual.test/sign-up", "116 123", "shown once"}},
		{page: "own/details", pg: &ui.Page{Title: "Your contact details", Form: formOf("preferred_name", "Sam", "contact_preference", "email"),
			Data: myDetailsData{OwnDetails: person.OwnDetails{Person: tplPerson(), Changes: []person.Change{{At: tNow, ChangedBy: "You", Label: "Phone number", Old: "1", New: "2"}}},
				ContactPreferences: reasonOptions(person.ContactPreferences)}},
			want: []string{`action="/my/details"`, `value="email" checked`, "You changed phone number"}},
		{page: "own/details", variant: "problems", pg: &ui.Page{Title: "Your contact details",
			Form: withErrors(formOf("preferred_name", "", "email", "nope"), "preferred_name", "Enter a name", "email", "Enter an email address in the correct format"),
			Data: myDetailsData{OwnDetails: person.OwnDetails{Person: tplPerson()}, ContactPreferences: reasonOptions(person.ContactPreferences)}},
			want: []string{"Nobody has changed your details yet", "Enter a name"}},
		{page: "own/referral", pg: &ui.Page{Title: "Your request for peer support", Form: formOf("share_with_referrer", "yes"), Data: mine, BackLink: "/my/referrals"},
			want: []string{`action="/my/referrals/42/sharing"`, `name="share_beyond_team"`, "recorded why the team went ahead", "Their advocate asked us to begin",
				"Priya, a peer support worker", `value="withdrawn"`, `name="next" value="/my/referrals/42"`, "Dr Ada Jones referred you"},
			notWant: []string{"Past waiting standard", "Priya Shah,", "Welcome"}},
		{page: "own/referral", variant: "ended: what helped", pg: &ui.Page{Title: "Your request for peer support",
			Form: withErrors(formOf("what_helped", ""), "what_helped", "Write what helped, in your own words"), Data: ended, BackLink: "/my/referrals"},
			want:    []string{`action="/my/referrals/42/what-helped"`, `name="what_helped"`, "Write what helped, in your own words", "Save what helped"},
			notWant: []string{"/sharing"}},
		{page: "own/referral", variant: "limited", pg: &ui.Page{Title: "Your referral for Alex", Form: ui.NewForm(nil), Data: limited},
			want: []string{"Alex has not agreed"}, notWant: []string{"/sharing"}},
		{page: "own/data", pg: &ui.Page{Title: "Your data", Data: dataPage{Copy: copyOf, Sections: secs}},
			want: []string{`href="/my/data?format=json"`, "Your details", "Record id", "Changes to contact details", "Phone number", "How it was made", "SAR of 3 March"}},
		{page: "own/data", variant: "subject access", pg: &ui.Page{Title: "Subject access copy", BackLink: "/people/7",
			Data: dataPage{Copy: copyOf, Sections: secs, Staff: true, Reason: "SAR of 3 March"}},
			want: []string{`action="/people/7/subject-access"`, `name="format" value="json"`, "Your reason"}},
	}
}
