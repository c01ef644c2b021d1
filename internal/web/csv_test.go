package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/webtest"
)

// A team named like a formula — with a pipe, a zero-width space in front or
// a full-width equals sign — comes out of every CSV export as text a
// spreadsheet will not run.
func TestCSVExportsNeutraliseFormulas(t *testing.T) {
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	names := []string{`=cmd|' /C calc'!A0`, `|cmd /c calc`, "\u200b=HYPERLINK(\"http://attacker.example\")", "\uff1dcmd|' /C calc'!A0",
		"\u2060+1+cmd|' /C calc'!A0", "%0A=1", "@SUM(1+1)*cmd|' /C calc'!A0"}
	var episodes []map[string]any
	for i, n := range names {
		if _, err := e.Accounts.CreateTeam(ctx, e.TeamA.OrganisationID, n, account.SettingCommunity); err != nil {
			t.Fatal(err)
		}
		episodes = append(episodes, map[string]any{"person_ref": "RX" + string(rune('A'+i)), "team": n,
			"coordinator_email": e.Users["clinician"].Email, "start_date": "2026-01-15"})
	}
	imp := e.Bearer(t, "analyst").JSON(http.MethodPost, "/api/v1/caseload-episodes", map[string]any{"episodes": episodes})
	want(t, imp, http.StatusOK)
	if !strings.Contains(imp.Body, `"imported": true`) {
		t.Fatalf("import: %s", imp.Body)
	}
	resp := e.As(t, "analyst").Get("/insight/coverage.csv")
	want(t, resp, http.StatusOK)
	recs, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var teams []string
	for _, rec := range recs[1:] {
		if !slices.Contains(teams, rec[0]) {
			teams = append(teams, rec[0])
		}
	}
	for _, n := range names {
		if !slices.Contains(teams, "'"+n) {
			t.Errorf("team %q is not neutralised in the export; its cells: %q", n, teams)
		}
	}
}
