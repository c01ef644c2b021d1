package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
)

func runCmd(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func TestCommands(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			dsn := storetest.DSN(t, engine)
			if out, _, err := runCmd(t, "", "migrate", "--database", dsn); err != nil || !strings.Contains(out, "schema version") {
				t.Fatalf("migrate: %q %v", out, err)
			}
			// A team is needed for team roles: the demo is the quickest way to one.
			if _, _, err := runCmd(t, "", "demo", "--database", dsn); err != nil {
				t.Fatalf("demo: %v", err)
			}
			if _, _, err := runCmd(t, "", "demo", "--database", dsn); err == nil || !strings.Contains(err.Error(), "empty database") {
				t.Fatalf("demo into a full database: %v", err)
			}
			out, _, err := runCmd(t, "a long enough passphrase\n", "user", "add", "--email", "new.lead@example.nhs.uk", "--name", "New Lead",
				"--role", "peer_lead", "--team", "North Community Mental Health Team", "--password-stdin", "--database", dsn)
			if err != nil || !strings.Contains(out, "added new.lead@example.nhs.uk") {
				t.Fatalf("user add: %q %v", out, err)
			}
			out, _, err = runCmd(t, "", "user", "add", "--email", "invitee@example.nhs.uk", "--name", "Invitee", "--role", "analyst", "--database", dsn)
			if err != nil || !strings.Contains(out, "invited") {
				t.Fatalf("user add (invite): %q %v", out, err)
			}
			_, _, err = runCmd(t, "", "user", "add", "--email", "bad", "--name", "", "--role", "wizard", "--database", dsn)
			if err == nil || !strings.Contains(err.Error(), "email") {
				t.Fatalf("bad user add: %v", err)
			}
			out, errOut, err := runCmd(t, "", "token", "create", "--email", "new.lead@example.nhs.uk", "--name", "Nightly import", "--days", "30", "--database", dsn)
			if err != nil || !strings.HasPrefix(out, "mut_") || !strings.Contains(errOut, "expires on") {
				t.Fatalf("token create: %q %q %v", out, errOut, err)
			}
			if _, _, err := runCmd(t, "", "token", "create", "--email", "new.lead@example.nhs.uk", "--days", "400", "--database", dsn); err == nil || !strings.Contains(err.Error(), "from 1 to 365") {
				t.Fatalf("token for 400 days: %v", err)
			}
			if _, _, err := runCmd(t, "", "token", "create", "--email", "nobody@example.org", "--database", dsn); err == nil {
				t.Fatal("token for an unknown account")
			}
			// Retention: with one year as the period, the demo's people
			// (whose story is the last eight months) are all kept; the report
			// is counts, never names.
			out, _, err = runCmd(t, "", "retention", "--dry-run", "--retention-years", "1", "--database", dsn)
			if err != nil || !strings.Contains(out, "0 would be forgotten") || strings.Contains(out, "Jordan") {
				t.Fatalf("retention --dry-run: %q %v", out, err)
			}
			if out, _, err := runCmd(t, "", "retention", "--retention-years", "0", "--database", dsn); err == nil {
				t.Fatalf("retention with no period: %q", out)
			}
			if out, _, err = runCmd(t, "", "retention", "--database", dsn); err != nil || !strings.Contains(out, "0 forgotten") {
				t.Fatalf("retention: %q %v", out, err)
			}
			// The commands sealed what they wrote: verify has nothing left
			// to seal, and prints the head to keep.
			out, _, err = runCmd(t, "", "audit", "verify", "--database", dsn)
			if err != nil || !strings.Contains(out, "audit trail intact") || !strings.Contains(out, "(0 sealed just now)") {
				t.Fatalf("audit verify: %q %v", out, err)
			}
			head := strings.Fields(out[strings.Index(out, "; head ")+len("; head "):])[0]
			if out, _, err := runCmd(t, "", "audit", "verify", "--head", head, "--database", dsn); err != nil {
				t.Fatalf("audit verify against its own head: %q %v", out, err)
			}
			seq, _, _ := strings.Cut(head, ":")
			out, _, err = runCmd(t, "", "audit", "verify", "--head", seq+":"+strings.Repeat("0", 64), "--database", dsn)
			if err == nil || !strings.Contains(out, "no longer has the published hash") {
				t.Fatalf("audit verify against a different head: %q %v", out, err)
			}
			csvPath := filepath.Join(t.TempDir(), "caseload.csv")
			_ = os.WriteFile(csvPath, []byte("person_ref,team,coordinator_email,start_date\nZ1,North Community Mental Health Team,a@b.nhs.uk,2026-01-01\nZ2,Nowhere,a@b.nhs.uk,2026-01-01\n"), 0o600)
			out, _, err = runCmd(t, "", "import", "caseload", csvPath, "--database", dsn)
			if err == nil || !strings.Contains(out, "line 3, column team") {
				t.Fatalf("import with a bad row: %q %v", out, err)
			}
			// A malformed file is reported by line, never a panic.
			brokenPath := filepath.Join(t.TempDir(), "broken.csv")
			_ = os.WriteFile(brokenPath, []byte("person_ref,team,coordinator_email,start_date\n\"Z3,North Community Mental Health Team,a@b.nhs.uk,2026-01-01\n"), 0o600)
			out, _, err = runCmd(t, "", "import", "caseload", brokenPath, "--database", dsn)
			if err == nil || !strings.Contains(out, "line 2: a value in quotes (\") starting on this line is never closed") {
				t.Fatalf("import with an unclosed quote: %q %v", out, err)
			}
			out, _, err = runCmd(t, "", "import", "caseload", "--valid-rows-only", csvPath, "--database", dsn)
			if err != nil || !strings.Contains(out, "1 new") {
				t.Fatalf("import valid rows: %q %v", out, err)
			}
			out, _, err = runCmd(t, "", "backup", filepath.Join(t.TempDir(), "copy.db"), "--database", dsn)
			if err != nil {
				t.Fatalf("backup: %v", err)
			}
			if engine == store.Postgres {
				if !strings.Contains(out, "pg_dump") {
					t.Fatalf("backup on PostgreSQL: %q", out)
				}
				return
			}
			copyPath := strings.TrimSpace(strings.Fields(strings.TrimPrefix(out, "backed up to "))[0])
			db, err := store.Open(context.Background(), copyPath)
			if err != nil {
				t.Fatalf("opening the backup: %v", err)
			}
			defer db.Close()
			var ok string
			var n int
			_ = db.QueryRow(context.Background(), "PRAGMA integrity_check").Scan(&ok)
			_ = db.QueryRow(context.Background(), "SELECT COUNT(*) FROM users WHERE email = 'new.lead@example.nhs.uk'").Scan(&n)
			if ok != "ok" || n != 1 {
				t.Fatalf("backup: integrity %q, user present %d", ok, n)
			}
		})
	}
}

// The server seals the audit rows written while it runs, and those written
// before it started, and seals once more as it stops.
func TestServeSealsTheAuditTrail(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			dsn := storetest.DSN(t, engine)
			ctx := context.Background()
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			write := func(n int) {
				for i := range n {
					if err := audit.RecordAlone(ctx, db, time.Now(), app.Actor{RequestID: "t"}, audit.Event{Action: "x", ObjectType: "y", ObjectID: fmt.Sprint(i)}); err != nil {
						t.Fatal(err)
					}
				}
			}
			write(5)
			sctx, stop := context.WithCancel(ctx)
			served := make(chan error, 1)
			var logs bytes.Buffer
			go func() {
				served <- run(sctx, []string{"serve", "--database", dsn, "--addr", "127.0.0.1:0", "--mail-dir", t.TempDir()}, strings.NewReader(""), io.Discard, &logs)
			}()
			deadline := time.Now().Add(20 * time.Second)
			for {
				h, _ := audit.ChainHead(ctx, db)
				if h.Seq == 5 {
					break
				}
				if time.Now().After(deadline) {
					stop()
					t.Fatalf("the server did not seal the rows written before it started: %+v", h)
				}
				time.Sleep(10 * time.Millisecond)
			}
			write(7)
			stop()
			if err := <-served; err != nil {
				t.Fatal(err)
			}
			h, err := audit.ChainHead(ctx, db)
			if err != nil || h.Seq != 12 || h.Unsealed != 0 {
				t.Fatalf("after the server stopped: %+v %v", h, err)
			}
			if !strings.Contains(logs.String(), "audit chain head") {
				t.Fatalf("the head was not logged:\n%s", logs.String())
			}
		})
	}
}

func TestConfigurationProblemsReportedTogether(t *testing.T) {
	t.Setenv("MUTUAL_SUPPRESS_BELOW", "zero")
	_, _, err := runCmd(t, "", "serve", "--addr", "nowhere", "--base-url", "ftp://x", "--log-level", "loud", "--session-recheck", "1h")
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"5 problem", "addr (from --addr)", "base-url", "log-level", "suppress-below (from MUTUAL_SUPPRESS_BELOW)",
		"session-recheck (from --session-recheck): must be a duration from 0s to 10s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not in %v", want, err)
		}
	}
	secret := filepath.Join(t.TempDir(), "db-url")
	_ = os.WriteFile(secret, []byte("postgres://nowhere.invalid/x\n"), 0o600)
	t.Setenv("MUTUAL_DATABASE_URL_FILE", secret)
	t.Setenv("MUTUAL_SUPPRESS_BELOW", "5")
	if _, _, err := runCmd(t, "", "serve", "--addr", "127.0.0.1:0", "--base-url", "https://peer.example.org"); err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("the _FILE variant was not read: %v", err)
	}
	if _, _, err := runCmd(t, "", "serve", "--addr", "0.0.0.0:8080", "--base-url", "http://peer.example.org"); err == nil || !strings.Contains(err.Error(), "HTTPS") {
		t.Fatalf("plain http on a public address: %v", err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	out, _, err := runCmd(t, "")
	if err != nil || !strings.Contains(out, "mutual serve") {
		t.Fatalf("usage: %q %v", out, err)
	}
	for _, cmd := range [][]string{{"serve", "--help"}, {"migrate", "--help"}, {"demo", "--help"}, {"backup", "--help"}, {"user", "add", "--help"},
		{"token", "create", "--help"}, {"audit", "verify", "--help"}, {"import", "caseload", "--help"}} {
		_, stderr, err := runCmd(t, "", cmd...)
		if err != nil || !strings.Contains(stderr, "Usage: mutual") || !strings.Contains(stderr, "--database") && !strings.Contains(stderr, "-database") {
			t.Errorf("%v --help: %q %v", cmd, stderr, err)
		}
	}
	if out, _, _ := runCmd(t, "", "version"); !strings.HasPrefix(out, "mutual ") {
		t.Errorf("version: %q", out)
	}
	if _, _, err := runCmd(t, "", "frobnicate"); err == nil {
		t.Error("unknown command accepted")
	}
}
