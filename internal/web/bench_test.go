package web_test

import (
	"net/http"
	"testing"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// BenchmarkSignedInPage measures the peer lead's home page through the
// whole stack (session lookup, counts, template) over real HTTP.
func BenchmarkSignedInPage(b *testing.B) {
	e := webtest.Start(b, store.SQLite, webtest.Options{})
	for range 50 {
		e.StaffReferral(b, "clinician", "Bench Person")
	}
	c := e.As(b, "lead")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := c.Get("/"); r.StatusCode != http.StatusOK {
				b.Fatalf("status %d", r.StatusCode)
			}
		}
	})
}

// BenchmarkBearerAPIRead measures a small API read with a bearer token
// through the whole stack, on each engine: mostly the token check.
func BenchmarkBearerAPIRead(b *testing.B) {
	for _, engine := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			e := webtest.Start(b, engine, webtest.Options{})
			c := e.Bearer(b, "lead")
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if r := c.Get("/api/v1/me"); r.StatusCode != http.StatusOK {
						b.Fatalf("status %d", r.StatusCode)
					}
				}
			})
		})
	}
}
