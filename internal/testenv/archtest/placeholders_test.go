package archtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneArgumentBuilder fails when code outside store numbers SQL
// placeholders itself ("$%d" in a format): store.Args (Add, In, IDs) is the
// one builder, so a placeholder cannot be numbered twice or out of step
// with its value. Tests' own helpers are left alone.
func TestOneArgumentBuilder(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if strings.HasPrefix(rel, filepath.Join("internal", "store")+string(filepath.Separator)) {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, "$%d") {
					t.Errorf("%s:%d numbers SQL placeholders by hand: use store.Args (Add, In, IDs)", rel, i+1)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
