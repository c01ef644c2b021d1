package groups_test

import (
	"context"
	"testing"

	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A worker's diary gets the sessions they facilitate in the period, with
// the group's name and venue, cancelled ones marked; a session they were
// taken off, a session outside the period, and anyone who does not
// facilitate (another worker, a person) get none.
func TestFacilitatingForTheDiary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, s := setUp(t, w, 10, 2)
		from, to := s.StartsAt.AddDate(0, 0, -1), s.StartsAt.AddDate(0, 0, 1)
		got := r(w.Groups.Facilitating(ctx, w.Principal(t, "worker"), from, to)).must(t)
		if len(got) != 1 || got[0].Kind != "group_session" || got[0].SessionID != s.ID || got[0].GroupTitle != "Hearing Voices Group" ||
			got[0].Venue != "Recovery College" || !got[0].Start.Equal(s.StartsAt) || got[0].Cancelled() {
			t.Fatalf("the facilitator's diary: %+v", got)
		}
		if later := r(w.Groups.Facilitating(ctx, w.Principal(t, "worker"), to, to.AddDate(0, 0, 7))).must(t); len(later) != 0 {
			t.Fatalf("outside the period: %+v", later)
		}
		for _, who := range []string{"workerB", "lead", "person", "clinician"} {
			if other := r(w.Groups.Facilitating(ctx, w.Principal(t, who), from, to)).must(t); len(other) != 0 {
				t.Fatalf("%s, who does not facilitate it: %+v", who, other)
			}
		}
		lead := w.Principal(t, "lead")
		r(w.Groups.SetFacilitators(ctx, lead, s.ID, groups.SessionFacilitators{FacilitatorIDs: []int64{w.Users["clinician"].ID}})).must(t)
		if got := r(w.Groups.Facilitating(ctx, w.Principal(t, "worker"), from, to)).must(t); len(got) != 0 {
			t.Fatalf("taken off the session: %+v", got)
		}
		r(w.Groups.CancelSession(ctx, lead, s.ID, groups.SessionCancel{Reason: "The room is flooded"})).must(t)
		if got := r(w.Groups.Facilitating(ctx, w.Principal(t, "clinician"), from, to)).must(t); len(got) != 1 || !got[0].Cancelled() {
			t.Fatalf("a cancelled session, for its new facilitator: %+v", got)
		}
	})
}
