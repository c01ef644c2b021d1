package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// A team named like a formula — with a pipe, a zero-width space in front or
// a full-width equals sign — comes out of every CSV export as text a
// spreadsheet will not run.
func TestCSVExportsNeutraliseFormulas(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	names := []string{`=cmd|' /C calc'!A0`, `|cmd /c calc`, "\u200b=HYPERLINK(\"http://attacker.example\")", "\uff1dcmd|' /C calc'!A0",
		"\u2060+1+cmd|' /C calc'!A0", "%0A=1", "@SUM(1+1)*cmd|' /C calc'!A0"}
	var episodes []map[string]any
	for i, n := range names {
		if _, err := e.Accounts.CreateTeam(ctx, app.Operator("test"), e.TeamA.OrganisationID, n, account.SettingCommunity); err != nil {
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

// uploadCaseload posts a caseload file as the upload form does.
func uploadCaseload(c *webtest.Client, e *webtest.Env, name, content string) *webtest.Response {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	return c.Do(http.MethodPost, "/caseloads", &body, http.Header{"Content-Type": {mw.FormDataContentType()}, "Origin": {e.URL}, "Sec-Fetch-Site": {"same-origin"}})
}

// A malformed caseload file is answered with the page again and its
// problems by line, never a 500.
func TestCaseloadUploadMalformedFile(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		analyst := e.As(t, "analyst")
		header := "person_ref,team,coordinator_email,start_date\r\n"
		row := "R1," + e.TeamA.Name + ",a@test.example,2026-01-02\r\n"
		for _, tc := range []struct{ name, content, want string }{
			{"unclosed quote", header + row + "\"R2," + e.TeamA.Name + ",a@test.example,2026-01-02\r\n", "is never closed"},
			{"unclosed quote later in the line", header + row + "R2,\"" + e.TeamA.Name + ",a@test.example,2026-01-02\r\n", "is never closed"},
			{"bare quote", header + "R\"2,North Team,a@test.example,2026-01-02\r\n", "there is a quote"},
			{"wrong field count", header + "R2," + e.TeamA.Name + "\r\n", "this line has 2 values but the header has 4 columns"},
			{"NUL", header + "R\x002," + e.TeamA.Name + ",a@test.example,2026-01-02\r\n", "NUL"},
			{"binary", "\x89PNG\r\n\x1a\n\x00\x00", "not a CSV text file"},
			{"empty", "", "The file is empty"},
			{"header only", header, "no rows to import"},
			{"UTF-16", "\xff\xfep\x00", "UTF-16"},
		} {
			r := uploadCaseload(analyst, e, "caseload.csv", tc.content)
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, html.EscapeString(tc.want)) {
				t.Errorf("%s: %d, want 422 with %q", tc.name, r.StatusCode, tc.want)
			}
		}
	})
}
