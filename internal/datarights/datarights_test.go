package datarights_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/datarights"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// aPersonWithEverything makes someone referred by staff, told about peer
// support, supported (a contact, an allocation), with an account of their
// own that changed their details, and a subject access copy made: a row in
// every table that holds a person's data.
func aPersonWithEverything(t *testing.T, w *testkit.World, name, email string) (referral.Referral, *app.Principal) {
	t.Helper()
	ctx := context.Background()
	lead, clin := w.Principal(t, "lead"), w.Principal(t, "clinician")
	r, err := w.Referrals.CreateReferral(ctx, clin, referral.NewReferral{Person: person.Details{PreferredName: name, Phone: "07700 900" + fmt.Sprintf("%03d", len(name))},
		AskedFor: "asked by " + name, PersonKnows: testkit.Yes(), Consent: "given", ShareWithReferrer: true, NotDuplicate: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Referrals.CreateOffer(ctx, clin, referral.NewOffer{PersonID: r.PersonID, Method: "review", Response: "not_now", Note: "note about " + name}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: w.Users["worker"].ID}} {
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Referrals.RecordContact(ctx, lead, r.ID, referral.NewContact{At: w.Clock.Now(), Mode: "phone", Note: "contact with " + name}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Ended, Ending: referral.EndingPlanned, Reason: "goals_met", OutcomeSummary: "went well for " + name}); err != nil {
		t.Fatal(err)
	}
	inv, err := w.People.InviteToClaim(ctx, clin, r.PersonID, person.InviteByPrint)
	if err != nil {
		t.Fatal(err)
	}
	u, err := w.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: email, Name: name, Memberships: []app.Membership{{Role: app.RolePerson}},
		Password: testkit.Password, Claim: inv.Code})
	if err != nil {
		t.Fatal(err)
	}
	me := &app.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, PersonID: u.PersonID, Memberships: u.Memberships, RequestID: "t"}
	if _, err := w.People.UpdateOwnContact(ctx, me, person.ContactDetails{PreferredName: name, Phone: "07700 900999", ContactPreference: "phone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.DataRights.SubjectAccessCopy(ctx, clin, r.PersonID, "their request of 2 November"); err != nil {
		t.Fatal(err)
	}
	return r, me
}

// A person's copy holds everything Mutual holds about them, from every
// capability, in words; it is audited; a subject access copy by staff needs
// a reason, is kept with the person's data, and shows in their record
// access; someone the caller may not see is not found.
func TestSubjectAccessCopy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		r, me := aPersonWithEverything(t, w, "Hollis", "hollis@example.org")
		c, err := w.DataRights.OwnCopy(ctx, me)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(c)
		for _, want := range []string{"Hollis", "asked by Hollis", "note about Hollis", "contact with Hollis", "went well for Hollis", r.Reference,
			"hollis@example.org", "07700900999", "A printed code from the peer support team", "their request of 2 November", "Goals met",
			"Referral made: Staff", "Your account", "Copies of your data"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("the person's copy lacks %q", want)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'datarights.own_copy' AND subject_person_id = $1", me.PersonID); n != 1 {
			t.Fatalf("the person's own copy was audited %d times", n)
		}
		// Staff: a reason, and only for someone they may see.
		clin, clinB := w.Principal(t, "clinician"), w.Principal(t, "clinicianB")
		if _, err := w.DataRights.SubjectAccessCopy(ctx, clin, r.PersonID, "  "); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("a copy without a reason: %v", err)
		}
		if _, err := w.DataRights.SubjectAccessCopy(ctx, clinB, r.PersonID, "curious"); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("a copy of someone out of scope: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'datarights.subject_access' AND outcome = 'denied'"); n != 1 {
			t.Fatalf("the refused copy was audited %d times as denied", n)
		}
		rows, err := w.Audit.OwnAccessLog(ctx, me.ActorFor(app.PermOwnRecord), me.PersonID, 200)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rows, func(a audit.Access) bool {
			return a.Action == "datarights.subject_access" && a.ActorRole == "clinician"
		}) {
			t.Fatalf("the subject access copy is not in the person's record access")
		}
		// Someone with no record of their own gets an empty copy.
		empty, err := w.DataRights.OwnCopy(ctx, w.Principal(t, "carer"))
		if err != nil || len(empty.Sections) != 0 {
			t.Fatalf("a carer with no record: %+v %v", empty, err)
		}
	})
}

// The retention job forgets everyone whose last activity, across every
// capability, is older than the retention period — every row of theirs, in
// every table — and nobody else: not someone a day short of it, not someone
// still in care, not someone whose data sits where no capability can forget
// it yet. Audit rows stay and the chain still verifies. A dry run changes
// nothing; the report is counts only.
func TestRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		start := w.Clock.Now()
		old, oldMe := aPersonWithEverything(t, w, "Ottoline", "ottoline@example.org")
		// A record made by mistake and joined to the old one goes with it.
		dup, err := w.People.Create(ctx, w.Principal(t, "clinician"), person.Details{PreferredName: "Otto"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return person.MarkMerged(ctx, tx, dup.ID, old.PersonID, start) }); err != nil {
			t.Fatal(err)
		}
		// At the same time: someone still waiting, and someone whose data
		// is also in a table no capability can forget yet (a caseload).
		// The world's two person accounts, made then and never used, are due
		// with the first person.
		waiting := w.StaffReferral(t, "clinician", "Waiting Wynn")
		onList, err := w.People.Create(ctx, w.Principal(t, "clinician"), person.Details{PreferredName: "Listed Lou"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, end_date, imported_at)
			VALUES ($1, 'LOU-1', $2, 'c@test.example', $3, $3, $4)`, onList.ID, w.TeamA.ID, start.Truncate(24*time.Hour), start); err != nil {
			t.Fatal(err)
		}
		// Someone else, an hour later.
		w.Clock.Advance(time.Hour)
		recent := w.StaffReferral(t, "clinician", "Recent Rae")
		if _, err := w.Referrals.Transition(ctx, w.Principal(t, "lead"), recent.ID, referral.Move{To: referral.Declined, Reason: "no_longer_needed"}); err != nil {
			t.Fatal(err)
		}
		auditBefore := count(t, db, "SELECT COUNT(*) FROM audit_events")

		// Twenty years after the first person's last activity, less a
		// minute: nobody is forgotten.
		w.Clock.Advance(start.AddDate(20, 0, 0).Add(-time.Minute).Sub(w.Clock.Now()))
		rep, err := w.DataRights.Retain(ctx, false)
		if err != nil || rep.Forgotten != 0 {
			t.Fatalf("a minute before the period ends: %+v %v", rep, err)
		}
		// Half an hour past it: the first person (only) is due.
		w.Clock.Advance(start.AddDate(20, 0, 0).Add(30 * time.Minute).Sub(w.Clock.Now()))
		dry, err := w.DataRights.Retain(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if dry.Forgotten != 3 || !dry.DryRun || count(t, db, "SELECT COUNT(*) FROM people WHERE id = $1", old.PersonID) != 1 {
			t.Fatalf("dry run: %+v", dry)
		}
		rep, err = w.DataRights.Retain(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Forgotten != 3 || rep.KeptUnheld != 1 || rep.KeptActive != 1 || rep.Checked != 5 {
			t.Fatalf("report: %+v", rep)
		}
		if s := rep.String(); strings.Contains(s, "Ottoline") || !strings.Contains(s, "3 forgotten") {
			t.Fatalf("the report: %q", s)
		}
		// Nothing of the first person is left, anywhere.
		for q, args := range map[string][]any{
			"SELECT COUNT(*) FROM people WHERE id IN ($1, $2)":                    {old.PersonID, dup.ID},
			"SELECT COUNT(*) FROM referrals WHERE person_id = $1":                 {old.PersonID},
			"SELECT COUNT(*) FROM referral_events WHERE referral_id = $1":         {old.ID},
			"SELECT COUNT(*) FROM contacts WHERE referral_id = $1":                {old.ID},
			"SELECT COUNT(*) FROM offers WHERE person_id = $1":                    {old.PersonID},
			"SELECT COUNT(*) FROM notifications WHERE referral_id = $1":           {old.ID},
			"SELECT COUNT(*) FROM person_claims WHERE person_id = $1":             {old.PersonID},
			"SELECT COUNT(*) FROM person_changes WHERE person_id = $1":            {old.PersonID},
			"SELECT COUNT(*) FROM data_requests WHERE person_id = $1":             {old.PersonID},
			"SELECT COUNT(*) FROM users WHERE person_id = $1 OR email = $2":       {old.PersonID, "ottoline@example.org"},
			"SELECT COUNT(*) FROM sessions WHERE user_id = $1":                    {oldMe.UserID},
			"SELECT COUNT(*) FROM users WHERE id = $1 AND status <> 'disabled'":   {oldMe.UserID},
			"SELECT COUNT(*) FROM users WHERE id = $1 AND name LIKE '%Ottoline%'": {oldMe.UserID},
		} {
			if n := count(t, db, q, args...); n != 0 {
				t.Errorf("%s: %d rows left", q, n)
			}
		}
		// Everyone else is still there.
		for _, id := range []int64{recent.PersonID, waiting.PersonID, onList.ID} {
			if count(t, db, "SELECT COUNT(*) FROM people WHERE id = $1", id) != 1 {
				t.Errorf("person %d was forgotten too early", id)
			}
		}
		// Audit rows are kept (and one added per person forgotten), and the
		// chain still verifies.
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE subject_person_id = $1", old.PersonID); n == 0 {
			t.Fatal("the audit rows about the forgotten person were deleted")
		}
		if got := count(t, db, "SELECT COUNT(*) FROM audit_events"); got < auditBefore+2 {
			t.Fatalf("audit rows: %d before, %d after", auditBefore, got)
		}
		if _, err := audit.Seal(ctx, db); err != nil {
			t.Fatal(err)
		}
		if res, err := audit.Verify(ctx, db); err != nil || !res.OK() {
			t.Fatalf("the audit chain after retention: %+v %v", res, err)
		}
		// The next run finds nobody new: the one still waiting is in care.
		w.Clock.Advance(2 * time.Hour)
		rep, err = w.DataRights.Retain(ctx, false)
		if err != nil || rep.Forgotten != 1 { // the declined one, now past the period
			t.Fatalf("the next run: %+v %v", rep, err)
		}
		if count(t, db, "SELECT COUNT(*) FROM people WHERE id = $1", waiting.PersonID) != 1 {
			t.Fatal("someone with an open referral was forgotten")
		}
	})
}

var (
	createTable = regexp.MustCompile(`(?is)CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)\s*\((.*?)\n\)`)
	alterPerson = regexp.MustCompile(`(?i)ALTER TABLE ([a-z_]+) ADD COLUMN [a-z_]+ BIGINT[^;]*REFERENCES people`)
)

// Every table that names a person is some capability's to copy and to
// forget (a person.Holder registered with the data-rights service, as
// cmd/mutual and the test world do), or is listed in datarights.Unheld
// with who will add its holder — except the audit trail, which keeps ids
// only and is never deleted.
func TestEveryPersonTableHasAHolder(t *testing.T) {
	w := testkit.NewWorld(t, storetest.Open(t, store.SQLite))
	held := map[string]bool{}
	for _, h := range append(slices.Clone(w.DataRights.Holders), w.DataRights) {
		for _, table := range h.Tables() {
			held[table] = true
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", "store", "migrations", "*.sql"))
	if len(files) == 0 {
		t.Fatal("no migrations found")
	}
	naming := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range createTable.FindAllStringSubmatch(string(b), -1) {
			if regexp.MustCompile(`(?i)\bperson_id\b`).MatchString(m[2]) {
				naming[m[1]] = true
			}
		}
		for _, m := range alterPerson.FindAllStringSubmatch(string(b), -1) {
			naming[m[1]] = true
		}
	}
	delete(naming, "people") // merged_into_id: the people capability's own
	if !naming["referrals"] || !naming["users"] {
		t.Fatalf("the scan of migrations found too little: %v", naming)
	}
	for table := range naming {
		_, pending := datarights.Unheld[table]
		switch {
		case table == "audit_subjects":
		case held[table] && pending:
			t.Errorf("%s has a holder and is still listed as unheld: remove it from datarights.Unheld", table)
		case !held[table] && !pending:
			t.Errorf("%s names a person but no holder copies or forgets it: implement person.Holder for its capability and register it", table)
		}
	}
}

// BenchmarkRetain measures the retention job forgetting people: each with a
// staff referral, its history, an offer and a contact, past the period.
// (make bench; counts only, no timing assertions.)
func BenchmarkRetain(b *testing.B) {
	const people = 100
	for _, engine := range storetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			w := testkit.NewWorld(b, storetest.Open(b, engine))
			ctx := context.Background()
			lead, clin := w.Principal(b, "lead"), w.Principal(b, "clinician")
			var total time.Duration
			forgotten := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for j := range people {
					r, err := w.Referrals.CreateReferral(ctx, clin, referral.NewReferral{Person: person.Details{PreferredName: fmt.Sprintf("Bench %d-%d", i, j)},
						AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given", ShareWithReferrer: true, NotDuplicate: true})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := w.Referrals.CreateOffer(ctx, clin, referral.NewOffer{PersonID: r.PersonID, Method: "review", Response: "not_now"}); err != nil {
						b.Fatal(err)
					}
					if _, err := w.Referrals.RecordContact(ctx, lead, r.ID, referral.NewContact{At: w.Clock.Now(), Mode: "phone"}); err != nil {
						b.Fatal(err)
					}
					if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Declined, Reason: "no_longer_needed"}); err != nil {
						b.Fatal(err)
					}
				}
				w.Clock.Advance(21 * 365 * 24 * time.Hour)
				b.StartTimer()
				start := time.Now()
				rep, err := w.DataRights.Retain(ctx, false)
				total += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				forgotten += rep.Forgotten
			}
			if forgotten > 0 {
				b.ReportMetric(float64(total.Microseconds())/float64(forgotten)/1000, "ms/person")
			}
		})
	}
}
