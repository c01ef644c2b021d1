package main

import (
	"slices"
	"testing"
)

// The tests that do things at once are found however they do it — their
// own goroutines, a local helper, a harness's (webtest.Parallel through a
// helper of a helper, testkit.Race, sync.WaitGroup.Go) — and tests that
// do one thing at a time, however many requests, are left to the run
// without the race detector.
func TestFindsTheTestsThatDoThingsAtOnce(t *testing.T) {
	names, dirs, err := Find("../../..")
	if err != nil {
		t.Fatal(err)
	}
	// The packages to build are those holding the tests, and only those.
	for _, want := range []string{"./internal/web", "./internal/store", "./internal/audit"} {
		if !slices.Contains(dirs, want) {
			t.Errorf("%s holds tests that do things at once but is not among the packages %v", want, dirs)
		}
	}
	for _, not := range []string{"./internal/testenv/racetests", "./internal/testenv/archtest"} {
		if slices.Contains(dirs, not) {
			t.Errorf("%s holds no test that does things at once but is among the packages", not)
		}
	}
	for _, want := range []string{
		"TestReferralRacesOverHTTP",               // runRaces → webtest.Parallel
		"TestTwoHundredSimultaneousBookings",      // parallel (web's own helper)
		"TestTrustRefClashUnderConcurrency",       // testkit.Race
		"TestLogCommitsConcurrentAppendsTogether", // appendAsync's goroutine
		"TestNoDoubleBooking",                     // its own goroutines
		"TestWriteDoesNotWaitForAnotherInstance",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("%s does things at once but is not in the pattern", want)
		}
	}
	for _, not := range []string{"TestRoleRouteMatrix", "TestTemplatesRenderEveryPage", "TestEveryPage", "TestPositionalPlaceholders",
		"TestLargeImportStreams"} { // the last: measuresOnly
		if slices.Contains(names, not) {
			t.Errorf("%s does one thing at a time but is in the pattern", not)
		}
	}
	if p := Pattern([]string{"TestA", "TestB"}); p != "^(TestA|TestB)$" {
		t.Errorf("pattern %q", p)
	}
	t.Logf("%d tests do things at once, in %d packages", len(names), len(dirs))
}
