package recovery_test

import (
	"context"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// On the public page a small theme cannot be worked out by taking the
// shown themes from the shown total: when one theme's count is hidden, so
// is another (or the total).
func TestYouSaidWeDidSecondarySuppression(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		give := func(theme string, n int) {
			for range n {
				rc, err := w.Recovery.GiveFeedback(ctx, app.Public("t"), recovery.NewFeedback{About: recovery.AboutService, TeamID: w.TeamA.ID, Body: "Words", Anonymous: true})
				if err != nil {
					t.Fatal(err)
				}
				for v, step := range []recovery.FeedbackMove{{To: recovery.Acknowledged}, {To: recovery.Considered, Theme: theme}} {
					step.Version = v + 1
					if _, err := w.Recovery.MoveFeedback(ctx, lead, rc.ID, step); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		give("groups", 2)
		give("access", 6)
		y, err := w.Recovery.YouSaidWeDidFor(ctx, w.TeamA.ID)
		if err != nil {
			t.Fatal(err)
		}
		if y.Received.Value == nil || *y.Received.Value != 8 {
			t.Fatalf("eight pieces of feedback: %+v", y.Received)
		}
		shown, hidden := 0, 0
		for _, th := range y.Themes {
			if th.Received.Value != nil {
				shown += *th.Received.Value
			} else {
				hidden++
			}
		}
		if hidden == 1 {
			t.Fatalf("one theme hidden and the rest shown: %d - %d reveals it (%+v)", *y.Received.Value, shown, y.Themes)
		}
		for _, th := range y.Themes {
			if th.Theme == "groups" && th.Received.Value != nil {
				t.Fatalf("a theme of two is shown: %+v", th)
			}
		}
	})
}
