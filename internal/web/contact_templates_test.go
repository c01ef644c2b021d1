package web

import (
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, contactTplCases) }

func contactTplCases() []tplCase {
	c := referral.Contact{ID: 9, ReferralID: 42, At: tNow, WorkerName: "Priya Shah", Mode: "phone", Minutes: 20, Note: "We walked to the museum",
		SupportTypes: []string{"social"}, Version: 2, EditedAt: &tNow, RestrictedNote: true,
		Comments: []referral.ContactComment{
			{ID: 3, At: tNow, AuthorName: "Sam", ByPerson: true, Kind: "correction", Body: "It was the museum", Answer: "corrected", AnsweredBy: "Priya Shah", AnsweredAt: &tNow},
			{ID: 4, At: tNow, AuthorName: "Sam", ByPerson: true, Kind: "correction", Body: "And it was Thursday"},
			{ID: 5, At: tNow, AuthorName: "Sam", ByPerson: true, Kind: "correction", Body: "Not Tuesday", Answer: "declined", Reason: "It was Tuesday", AnsweredBy: "Priya Shah"}}}
	wrong := c
	wrong.ID, wrong.EnteredInError, wrong.ErrorReason, wrong.RestrictedNote, wrong.Comments, wrong.EditedAt = 10, true, "Recorded on the wrong person", false, nil, nil
	d := referral.ContactDetail{Contact: c, Reference: "MUT-2026-0042", PersonName: "Sam",
		Versions:   []referral.NoteVersion{{Version: 1, Note: "We walked to the library", WrittenBy: "Priya Shah", WrittenAt: tEarlier}},
		Restricted: []referral.RestrictedNote{{ID: 1, Note: "Brother at the door throughout", Reason: "Safeguarding", WrittenBy: "Priya Shah", WrittenAt: tNow, Withheld: "At risk if told", WithheldBy: "Dr Ada Jones", WithheldAt: &tNow}},
		MayAmend:   true, MayRestrict: true, MayWithhold: true}
	r := tplReferral(referral.Active)
	mine := referral.MyReferral{Referral: r, Contacts: []referral.Contact{c, wrong}, CanChangeSharing: true,
		Own: referral.OwnReferral{ID: 42, Reference: r.Reference, Status: r.Status, StatusText: "Peer support has started.", PersonName: "Sam", MadeBy: "You", ReceivedAt: tEarlier, Version: 3}}
	return []tplCase{
		{page: "referral/contact", pg: &ui.Page{Title: "Contact", Form: formOf("version", "2", "note", c.Note), Data: contactPageData{ContactDetail: d}, BackLink: "/referrals/42"},
			want: []string{`action="/contacts/9/note"`, `action="/contacts/9/entered-in-error"`, `action="/contacts/9/restricted-notes"`, `action="/contacts/9/restricted-notice"`,
				`action="/contact-comments/4/answer"`, "We walked to the library", "Brother at the door throughout", "At risk if told", "Dr Ada Jones", "Declined by Priya Shah: It was Tuesday"}},
		{page: "referral/contact", variant: "stale edit", pg: &ui.Page{Title: "Contact", Form: withErrors(formOf("version", "2", "note", "My stale text"), "", "Someone changed this contact"),
			Data: contactPageData{ContactDetail: referral.ContactDetail{Contact: wrong, Reference: "MUT-2026-0042", PersonName: "Sam"}, Active: "note"}},
			want: []string{"Someone changed this contact", "Entered in error", "Recorded on the wrong person"}, notWant: []string{`action="/contacts/10/note"`, "Restricted notes"}},
		{page: "own/referral", variant: "contacts", pg: &ui.Page{Title: "Your request for peer support",
			Form: withErrors(formOf("comment_on", "9", "kind", "correction"), "body", "Enter what should be corrected"), Data: mine},
			want: []string{`action="/my/contacts/9/comments"`, "There is also a restricted note", "This note was edited", "Corrected by Priya Shah", "Not corrected by Priya Shah: It was Tuesday",
				"Entered in error", "Recorded on the wrong person", "Enter what should be corrected", `id="body"`, `id="contact-10-body"`},
			notWant: []string{"We walked to the library", "Brother at the door"}},
	}
}
