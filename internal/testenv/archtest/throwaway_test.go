package archtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestThrowawayOnlyInTests fails when anything but the test harness opens
// a database with store.OpenThrowaway, which lets PostgreSQL acknowledge a
// commit before it is on disk: the service, a command or make bench's load
// run would then report figures, or keep data, no service would.
// storetest.Open gives it to tests only, never to a benchmark.
func TestThrowawayOnlyInTests(t *testing.T) {
	root := repoRoot(t)
	allowed := map[string]bool{
		filepath.Join("internal", "store", "db.go"):                           true, // where it is declared
		filepath.Join("internal", "testenv", "storetest", "storetest.go"):     true,
		filepath.Join("internal", "store", "store_test.go"):                   true, // its own test
		filepath.Join("internal", "testenv", "archtest", "throwaway_test.go"): true,
	}
	uses := 0
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil || !strings.Contains(string(b), "OpenThrowaway") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if !allowed[rel] {
				t.Errorf("%s uses store.OpenThrowaway: only the test harness (storetest.Open) may", rel)
			}
			uses++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if uses < 2 {
		t.Errorf("found store.OpenThrowaway in %d files; the check is not looking where it should", uses)
	}
}
