package store_test

import (
	"context"
	"testing"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Four instances starting on one new, empty database at once: between
// them every migration is applied exactly once, and none of them fails.
func TestMigrateOnSeveralInstancesAtOnce(t *testing.T) {
	all, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, engine)
			dbs := make([]*store.DB, 4)
			for i := range dbs {
				if dbs[i], err = store.Open(ctx, dsn); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { dbs[i].Close() })
			}
			applied := make([][]string, len(dbs))
			errs := testkit.Race(len(dbs), func(i int) error {
				var err error
				applied[i], err = dbs[i].Migrate(ctx)
				return err
			})
			if won := testkit.Winners(t, errs); won != len(dbs) {
				t.Fatalf("%v", errs)
			}
			times := map[string]int{}
			for _, a := range applied {
				for _, m := range a {
					times[m]++
				}
			}
			if len(times) != len(all) {
				t.Fatalf("%d migrations applied, want %d", len(times), len(all))
			}
			for m, n := range times {
				if n != 1 {
					t.Fatalf("%s applied %d times", m, n)
				}
			}
			if v, err := dbs[0].SchemaVersion(ctx); err != nil || v != all[len(all)-1].Version {
				t.Fatalf("schema version %d, %v", v, err)
			}
		})
	}
}
