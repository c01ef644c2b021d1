package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/testenv/webtest"
	"github.com/mutualhq/mutual/internal/watch"
)

// The watched words as one list over the API: read with its version,
// replaced whole from that version. Problems are named by their place and
// change nothing; two administrators replacing from one version at once
// over real HTTP: one 200, one 409; a lead is refused.
func TestWatchedWordsAPI(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		admin, admin2, lead := e.Bearer(t, "admin"), e.Bearer(t, "admin"), e.Bearer(t, "lead")
		r := admin.Get("/api/v1/watched-words")
		want(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.Body, "organisation=") {
			t.Errorf("with several organisations and none named: %s", r.Body)
		}
		want(t, lead.Get("/api/v1/watched-words?organisation=1"), http.StatusForbidden)
		want(t, admin.Get("/api/v1/watched-words?organisation=999999"), http.StatusNotFound)
		want(t, admin.Get("/api/v1/watched-words?organisation=one"), http.StatusUnprocessableEntity)

		r = admin.Get("/api/v1/watched-words?organisation=1")
		want(t, r, http.StatusOK)
		l := decode[watch.List](t, r)
		if l.Own || l.Version != 0 || len(l.Terms) != len(watch.DefaultTerms) {
			t.Fatalf("the defaults: own %v version %d, %d terms", l.Own, l.Version, len(l.Terms))
		}

		two := []map[string]string{{"phrase": "feel unsafe", "category": "distress", "action": "flag"}, {"phrase": "overdos*", "category": "means", "action": "hold"}}
		r = admin.JSON(http.MethodPut, "/api/v1/watched-words?organisation=1", map[string]any{"version": 0,
			"terms": []map[string]string{two[0], {"phrase": "Feel Unsafe", "category": "weather", "action": "flag"}}})
		want(t, r, http.StatusUnprocessableEntity)
		var problem struct {
			Errors []struct{ Field, Message string } `json:"errors"`
		}
		_ = json.Unmarshal([]byte(r.Body), &problem)
		if got := fmt.Sprint(problem.Errors); !strings.Contains(got, "terms[1].phrase") || !strings.Contains(got, "terms[1].category") {
			t.Errorf("problems not named by their place: %s", r.Body)
		}
		want(t, lead.JSON(http.MethodPut, "/api/v1/watched-words?organisation=1", map[string]any{"version": 0, "terms": two}), http.StatusForbidden)
		if l := decode[watch.List](t, admin.Get("/api/v1/watched-words?organisation=1")); l.Own {
			t.Fatal("a refused replacement changed the list")
		}

		// Two administrators replace from version 0 at once.
		path := "/api/v1/watched-words?organisation=1"
		rs := webtest.Parallel(t, []webtest.Call{
			{Client: admin, Method: http.MethodPut, Path: path, JSON: map[string]any{"version": 0, "terms": two[:1]}},
			{Client: admin2, Method: http.MethodPut, Path: path, JSON: map[string]any{"version": 0, "terms": two}},
		})
		codes := fmt.Sprint(rs[0].StatusCode, rs[1].StatusCode)
		if codes != "200 409" && codes != "409 200" {
			t.Fatalf("two replacements from one version: %s, want one 200 and one 409\n%s\n%s", codes, rs[0].Body, rs[1].Body)
		}
		winner := decode[watch.List](t, rs[0])
		if rs[1].StatusCode == http.StatusOK {
			winner = decode[watch.List](t, rs[1])
		}
		l = decode[watch.List](t, admin.Get(path))
		if !l.Own || l.Version != 1 || fmt.Sprint(l.Terms) != fmt.Sprint(winner.Terms) {
			t.Fatalf("after the race the list is %+v, want the winner's %+v", l, winner)
		}
		for _, r := range rs {
			if r.StatusCode == http.StatusConflict && !strings.Contains(r.Body, "load them again") {
				t.Errorf("the loser is not told what to do: %s", r.Body)
			}
		}
	})
}
