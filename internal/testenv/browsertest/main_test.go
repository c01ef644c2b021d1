package browsertest

import (
	"os"
	"testing"
)

// TestMain stops the shared Chromium when the tests are done, and lists
// the other pages on which a reported violation was found again.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.b != nil {
		shared.b.logRepeats()
		shared.stop()
	}
	os.Exit(code)
}
