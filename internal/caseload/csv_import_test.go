package caseload_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Every malformed file, imported for real on each engine, is a validation
// error or a report of problems: never a panic or an internal error, and
// nothing stored from a file with problems.
func TestImportCSVMalformedFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := &caseload.Service{DB: db, Clock: w.Clock, RefreshFlags: referral.RefreshCaseloadFlagsFor}
		ctx := context.Background()
		for _, tc := range caseload.MalformedCSV {
			data := strings.ReplaceAll(tc.Data, "North Team", w.TeamA.Name)
			rep, err := svc.ImportCSV(ctx, app.Actor{}, strings.NewReader(data), caseload.ImportOptions{})
			switch {
			case err != nil && !app.IsCode(err, app.CodeInvalid):
				t.Errorf("%s: %v", tc.Name, err)
			case err == nil && (rep.Imported || len(rep.Problems) == 0):
				t.Errorf("%s: imported a malformed file: %+v", tc.Name, rep)
			}
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM caseload_episodes").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d episodes stored from malformed files (%v)", n, err)
		}
		// A NUL in a value is a problem on its line and column, on
		// PostgreSQL too, even importing the valid rows only.
		rep, err := svc.ImportCSV(ctx, app.Actor{}, strings.NewReader(caseload.CSVHeader+strings.ReplaceAll(caseload.CSVRow, "North Team", w.TeamA.Name)+
			"R2,"+w.TeamA.Name+",a@test.example,2026-01-02,,1990\r\nR\x003,"+w.TeamA.Name+",a@test.example,2026-01-02,,1990\r\n"), caseload.ImportOptions{ValidRowsOnly: true})
		if err != nil || !rep.Imported || rep.Inserted != 2 || len(rep.Problems) != 1 || rep.Problems[0].Row != 4 || rep.Problems[0].Column != "person_ref" ||
			!strings.Contains(rep.Problems[0].Message, "NUL") {
			t.Fatalf("a NUL in a value: %+v %v", rep, err)
		}
	})
}
