package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
)

// A panic in work run through Recovered comes back as an error naming it,
// with the stack; an error or success comes back as it was.
func TestRecovered(t *testing.T) {
	err := app.Recovered(func() error { panic("batch 7") })
	if err == nil || !strings.Contains(err.Error(), "panic: batch 7") || !strings.Contains(err.Error(), "goroutine_test.go") {
		t.Fatalf("a panic: %v", err)
	}
	want := errors.New("stored nothing")
	if err := app.Recovered(func() error { return want }); err != want {
		t.Fatalf("an error: %v", err)
	}
	if err := app.Recovered(func() error { return nil }); err != nil {
		t.Fatalf("success: %v", err)
	}
}
