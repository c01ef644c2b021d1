package testkit

import (
	"encoding/json"
	"testing"
)

// JSON is v as the API would encode it, for a test to look for a canary in
// everything a call returned.
func JSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
