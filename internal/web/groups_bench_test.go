package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// BenchmarkThousandBookingAttempts sends 1,000 booking attempts for one
// session of 12 places over real HTTP (50 at a time, each from its own
// address, as members of the public), on each engine, and reports the
// attempts per second. It fails unless exactly 12 places are booked and
// the other 988 wait at distinct positions.
//
//	go test -run '^$' -bench ThousandBookingAttempts -benchtime 1x ./internal/web/
func BenchmarkThousandBookingAttempts(b *testing.B) {
	for _, engine := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				e := webtest.Start(b, engine, webtest.Options{TrustLoopbackProxy: true})
				ctx := context.Background()
				g, err := e.Groups.CreateGroup(ctx, e.Principal(b, "lead"), groups.NewGroup{TeamID: e.TeamA.ID, Title: "Bench group", Repeats: groups.Once,
					Visibility: groups.Public, Capacity: 12, MaxPlaces: 1, Venue: groups.Venue{Name: "Hall"}})
				if err != nil {
					b.Fatal(err)
				}
				ss, err := e.Groups.AddSessions(ctx, e.Principal(b, "lead"), g.ID, groups.NewSessions{
					Start: e.Clock.Now().AddDate(0, 0, 7).In(app.London).Format("2006-01-02") + "T10:30", Minutes: 60})
				if err != nil {
					b.Fatal(err)
				}
				path := fmt.Sprintf("/api/v1/sessions/%d/bookings", ss[0].ID)
				const attempts, workers = 1000, 50
				clients := make([]*webtest.Client, workers)
				for i := range clients {
					clients[i] = e.Client(b)
				}
				var next, booked, waiting atomic.Int64
				var wg sync.WaitGroup
				b.StartTimer()
				start := time.Now()
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1) - 1
							if i >= attempts {
								return
							}
							c := clients[w]
							c.Header = http.Header{"X-Forwarded-For": {fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256+1)}}
							r := c.JSON(http.MethodPost, path, map[string]any{"name": fmt.Sprintf("P%d", i), "email": fmt.Sprintf("p%d@example.org", i), "places": 1})
							if r.StatusCode != http.StatusCreated {
								b.Errorf("attempt %d: %d %s", i, r.StatusCode, r.Body)
								return
							}
							var res groups.BookingResult
							if err := json.Unmarshal([]byte(r.Body), &res); err != nil {
								b.Errorf("attempt %d: %v", i, err)
								return
							}
							if res.Status == "booked" {
								booked.Add(1)
							} else {
								waiting.Add(1)
							}
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				var held, distinct int
				_ = e.DB.QueryRow(ctx, "SELECT places_held FROM group_sessions WHERE id = $1", ss[0].ID).Scan(&held)
				_ = e.DB.QueryRow(ctx, "SELECT COUNT(DISTINCT position) FROM group_bookings WHERE session_id = $1 AND status = 'waiting'", ss[0].ID).Scan(&distinct)
				if booked.Load() != 12 || waiting.Load() != 988 || held != 12 || distinct != 988 {
					b.Fatalf("booked %d, waiting %d, places held %d, distinct positions %d", booked.Load(), waiting.Load(), held, distinct)
				}
				b.ReportMetric(float64(attempts)/elapsed.Seconds(), "attempts/s")
				b.ReportMetric(float64(booked.Load()), "booked")
			}
		})
	}
}
