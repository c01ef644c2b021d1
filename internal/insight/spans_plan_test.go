package insight

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
)

// The off-caseload query finds each person's other spans by their id on
// SQLite even with no statistics (a database never analysed yet): planned
// by date instead, it read every span of a kind for each row (26.6 s
// against 0.25 s over 2,000 people).
func TestOffCaseloadQueryUsesThePerson(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	var stat int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'").Scan(&stat); err != nil {
		t.Fatal(err)
	}
	if stat > 0 {
		if _, err := db.Exec(ctx, "DELETE FROM sqlite_stat1"); err != nil {
			t.Fatal(err)
		}
	}
	from := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	rows, err := db.Query(ctx, "EXPLAIN QUERY PLAN "+offCaseloadQuery, from, from.AddDate(0, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	subqueries := 0
	for _, step := range plan {
		for _, alias := range []string{" x ", " c "} {
			if strings.Contains(step+" ", alias) && (strings.HasPrefix(step, "SEARCH") || strings.HasPrefix(step, "SCAN")) {
				subqueries++
				if !strings.Contains(step, "person_id=?") {
					t.Errorf("a subquery reads spans other than by person: %q\nplan:\n%s", step, strings.Join(plan, "\n"))
				}
			}
		}
	}
	if subqueries != 4 {
		t.Errorf("%d subqueries over the spans, want 4:\n%s", subqueries, strings.Join(plan, "\n"))
	}
}
