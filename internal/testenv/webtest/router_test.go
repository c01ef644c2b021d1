package webtest

import (
	"net/http"
	"testing"

	"github.com/mutualhq/mutual/internal/store"
)

// The shared router finds the server's operations for requests to any
// Env's URL, so checkAPI checks them rather than passing them by.
func TestSharedRouterFindsOperations(t *testing.T) {
	for range 2 {
		e := Start(t, store.SQLite, Options{})
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/me", nil)
		router, err := routerFor(e.Server.OpenAPI())
		if err != nil {
			t.Fatal(err)
		}
		if route, _, err := router.FindRoute(req); err != nil || route.Method != http.MethodGet {
			t.Fatalf("GET %s: no operation found: %v", req.URL, err)
		}
	}
}
