// Package icaltest parses iCalendar with a real iCalendar library (ical.js,
// from npm, run by Node.js), so tests check that feeds and calendar files
// are what calendar programs will read, not just what Go wrote.
package icaltest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Event is one parsed event.
type Event struct {
	UID         string    `json:"uid"`
	Summary     string    `json:"summary"`
	Description string    `json:"description"`
	Location    string    `json:"location"`
	Status      string    `json:"status"`
	TZID        string    `json:"tzid"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	// StartWall and EndWall are the wall-clock times in the event's zone,
	// as YYYY-MM-DDTHH:MM.
	StartWall string `json:"startWall"`
	EndWall   string `json:"endWall"`
}

// Calendar is a parsed calendar.
type Calendar struct {
	Name      string   `json:"name"`
	Timezones []string `json:"timezones"`
	Events    []Event  `json:"events"`
}

func repoRoot(tb testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Parse parses text with ical.js, failing the test if it is not valid
// iCalendar or does not use CRLF line ends. Without Node.js or ical.js
// the test is skipped, except under CI=true, where it fails.
func Parse(tb testing.TB, text []byte) Calendar {
	tb.Helper()
	lib := filepath.Join(repoRoot(tb), "node_modules", "ical.js", "dist", "ical.es5.cjs")
	node, err := exec.LookPath("node")
	if _, serr := os.Stat(lib); err != nil || serr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("Node.js and npm's ical.js are needed (run scripts/test-deps.sh): %v %v", err, serr)
		}
		tb.Skip("needs Node.js and ical.js (scripts/test-deps.sh)")
	}
	if bytes.Contains(bytes.ReplaceAll(text, []byte("\r\n"), nil), []byte("\n")) {
		tb.Fatalf("calendar has bare LF line ends:\n%s", text)
	}
	cmd := exec.Command(node, filepath.Join(repoRoot(tb), "internal", "testenv", "icaltest", "parse.cjs"), lib)
	cmd.Stdin = bytes.NewReader(text)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("ical.js could not parse the calendar: %v\n%s\n%s", err, stderr.String(), text)
	}
	var c Calendar
	if err := json.Unmarshal(out.Bytes(), &c); err != nil {
		tb.Fatalf("reading ical.js's answer: %v\n%s", err, out.String())
	}
	return c
}

// ByUID finds an event, failing the test if there is none.
func (c Calendar) ByUID(tb testing.TB, uid string) Event {
	tb.Helper()
	for _, e := range c.Events {
		if e.UID == uid {
			return e
		}
	}
	var uids []string
	for _, e := range c.Events {
		uids = append(uids, e.UID)
	}
	tb.Fatalf("no event %s in the calendar (has %s)", uid, strings.Join(uids, ", "))
	return Event{}
}
