// Command mutual is the whole of Mutual in one binary: the web server and
// the operator's tools.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/demo"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Mutual: peer support, for everyone who could use it.

Usage:
  mutual serve                 run the web server (migrates the database first)
  mutual migrate               apply database migrations
  mutual user add --email E --name N --role R [--team T] [--password-stdin]
                               add an account (invited by email unless a password is given)
  mutual token create --email E [--name N] [--days D]
                               print a new API bearer token for an account
  mutual demo [--scale N]      load demonstration data into an empty database
  mutual backup FILE           take a consistent copy of the database
  mutual audit verify          check the audit trail's hash chain
  mutual import caseload FILE.csv [--valid-rows-only]
                               import caseload episodes from the trust's record
  mutual retention [--dry-run]  delete people whose last activity is older than the retention period
                               (--retention-years, 20 by default); prints counts only
  mutual version               print the version

Every command takes --database (or MUTUAL_DATABASE_URL); "mutual COMMAND --help" lists its flags.
`

func main() {
	if os.Getenv("GOGC") == "" && len(os.Args) > 1 && os.Args[1] == "serve" {
		// The server's live heap is small and most of what it allocates
		// lives for one request: collecting half as often costs a few
		// megabytes and saves CPU on every page. GOGC overrides this.
		debug.SetGCPercent(200)
	}
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mutual:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "user":
		if len(rest) == 0 || rest[0] != "add" {
			return errors.New("usage: mutual user add --email E --name N --role R [--team T]")
		}
		return cmdUserAdd(ctx, rest[1:], stdin, stdout, stderr)
	case "token":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New("usage: mutual token create --email E [--name N] [--days D]")
		}
		return cmdTokenCreate(ctx, rest[1:], stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, stdout, stderr)
	case "audit":
		if len(rest) == 0 || rest[0] != "verify" {
			return errors.New("usage: mutual audit verify")
		}
		return cmdAuditVerify(ctx, rest[1:], stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, stdout, stderr)
	case "retention":
		return cmdRetention(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "mutual", version)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
}

func newFlags(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mutual "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mutual %s\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseConfig registers the named configuration options on fs (which may
// already hold the command's own flags), parses args and builds the
// configuration. --help answers errHelp.
func parseConfig(fs *flag.FlagSet, args []string, names ...string) (*Config, error) {
	build := configFlags(fs, names...)
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	return build()
}

// parse parses flags, which may come before or after the command's other
// arguments (mutual backup FILE --database X), treating --help as success.
func parse(fs *flag.FlagSet, args []string) error {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	err := fs.Parse(append(append(flags, "--"), rest...))
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	return err
}

var errHelp = errors.New("help shown")

// sealAndClose seals the audit rows a command wrote, so the chain is whole
// without a server running, and closes the database. A failure to seal
// is reported, not fatal: the rows are committed, and the next sealer
// (a server, or "mutual audit verify") chains them.
func sealAndClose(db *store.DB, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := audit.Seal(ctx, db); err != nil {
		fmt.Fprintln(stderr, "mutual: sealing the audit trail (the next server or audit verify will):", err)
	}
	db.Close()
}

func openDB(ctx context.Context, cfg *Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrating the database: %w", err)
	}
	return db, nil
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", "Run the Mutual web server. It applies any pending database migrations first.", stderr)
	cfg, err := parseConfig(fs, args, "addr", "database", "base-url", "smtp-url", "mail-dir", "require-mfa", "waiting-standard-days",
		"suppress-below", "trusted-proxies", "log-format", "log-level", "shutdown-timeout", "session-recheck", "max-in-flight", "retention-years",
		"review-weeks", "feedback-acknowledge-days", "feedback-answer-days")
	if err != nil {
		return ignoreHelp(err)
	}
	if !cfg.Secure() {
		return fmt.Errorf("the base URL %s is plain http on a public address: Mutual's session cookie only travels over HTTPS. "+
			"Put Mutual behind HTTPS and set MUTUAL_BASE_URL=https://…", cfg.BaseURL)
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	clock := app.SystemClock{}
	svc := newServices(cfg, db, clock)
	acc, counters := svc.Accounts, svc.Counters

	var sender mail.Sender = &mail.FolderSender{Dir: cfg.MailDir}
	if cfg.SMTPURL != "" {
		if sender, err = mail.NewSMTPSender(cfg.SMTPURL); err != nil {
			return err
		}
	}
	mailDir := ""
	if cfg.SMTPURL == "" {
		mailDir = cfg.MailDir
		if abs, err := filepath.Abs(mailDir); err == nil {
			mailDir = abs
		}
	}
	srv, err := web.New(web.Config{BaseURL: cfg.BaseURL, RequireMFA: cfg.RequireMFA, MailDir: mailDir,
		TrustedProxies: cfg.TrustedProxies, Version: version, MaxInFlight: cfg.MaxInFlight},
		web.Deps{DB: db, Clock: clock, Audit: svc.Audit, Accounts: acc, People: svc.People, Notify: svc.Notify, Referrals: svc.Referrals, Insight: svc.Insight, Caseloads: svc.Caseloads, Groups: svc.Groups, Matching: svc.Matching, Counters: counters, Log: log,
			DataRights: svc.DataRights, Watch: svc.Watch, Alerts: svc.Alerts, Recovery: svc.Recovery, Community: svc.Community, Support: svc.Support})
	if err != nil {
		return err
	}
	// The group committer for audited reads is closed after the last
	// request, so every row it acknowledged is committed before the final
	// seal.
	defer svc.Close()
	host, _ := os.Hostname()
	// Background jobs, and the sealer on its own context: on shutdown the
	// jobs stop first (they may write audit rows), then the group committer
	// commits what it acknowledged, and the sealer seals last.
	workers, cancelWorkers := context.WithCancel(context.Background())
	defer cancelWorkers()
	sealing, stopSealing := context.WithCancel(context.Background())
	defer stopSealing()
	mailer := &mail.Worker{DB: db, Sender: sender, Clock: clock, Log: log, Owner: host}
	sealer := &audit.Sealer{DB: db, Log: log}
	var jobs sync.WaitGroup
	job := func(run func(context.Context)) {
		jobs.Add(1)
		go func() { defer jobs.Done(); run(workers) }()
	}
	job(func(ctx context.Context) {
		// Once a day: people whose last activity is older than the
		// retention period are forgotten; the log gets counts only.
		svc.DataRights.Run(ctx, func(msg string, err error) {
			if err != nil {
				log.Error("retention", "err", err, "report", msg)
				return
			}
			log.Info(msg)
		})
	})
	job(mailer.Run)
	// Alerts nobody responded to in time go to the service managers. Every
	// instance runs this; each alert is claimed once (alert.EscalateDue).
	job(func(ctx context.Context) {
		every(ctx, time.Minute, func(ctx context.Context) {
			logCount(ctx, log, "escalating due alerts", "escalated alerts nobody responded to in time", "count")(svc.Alerts.EscalateDue(ctx))
		})
	})
	job(func(ctx context.Context) {
		every(ctx, time.Minute, func(ctx context.Context) { groupJobs(ctx, log, svc.Groups) })
	})
	// The caseload roll-up insight counts from is rebuilt here (and after
	// each import) when a bulk load left it stale, never by a reader.
	job(func(ctx context.Context) {
		every(ctx, time.Minute, func(ctx context.Context) {
			if err := svc.Caseloads.RebuildIfStale(ctx); err != nil && ctx.Err() == nil {
				log.Error("caseload roll-up", "err", err)
			}
		})
	})
	// The support roll-up the support report counts from, likewise: built
	// here when a migration or bulk load left it stale.
	job(func(ctx context.Context) {
		every(ctx, time.Minute, func(ctx context.Context) {
			if err := svc.Referrals.RebuildSupportRollupIfStale(ctx); err != nil && ctx.Err() == nil {
				log.Error("support roll-up", "err", err)
			}
		})
	})
	// Reviews due within a week are reminded to the person and their
	// worker, each once however many instances run this.
	job(func(ctx context.Context) {
		every(ctx, 5*time.Minute, func(ctx context.Context) {
			logCount(ctx, log, "sending review reminders", "review reminders sent", "reviews")(svc.Recovery.SendReviewReminders(ctx))
		})
	})
	// Lone working: a visit not checked out by its end and the grace period
	// alerts the worker's leads; each visit is claimed once
	// (support.RaiseMissedCheckOuts).
	job(func(ctx context.Context) { svc.Support.RunLoneWorking(ctx, log, time.Minute) })
	// Appointment reminders, the day before, each sent once
	// (support.SendReminders).
	job(func(ctx context.Context) { svc.Support.RunReminders(ctx, log, 5*time.Minute) })
	// Transitions from the trust's record: a ward admission, a discharge, a
	// 17th birthday on a CAMHS caseload prompt the person's worker, each
	// once (support.RaiseTransitionPrompts).
	job(func(ctx context.Context) { svc.Support.RunTransitionPrompts(ctx, log, 15*time.Minute) })
	job(func(ctx context.Context) {
		every(ctx, 10*time.Minute, func(ctx context.Context) { janitor(ctx, log, acc, counters) })
	})
	if db.Dialect == store.SQLite {
		// The log is copied into the file in the background, so that no
		// request waits for the writer's own checkpoint (store.Checkpoint).
		job(func(ctx context.Context) {
			var warned time.Time
			every(ctx, 250*time.Millisecond, func(ctx context.Context) {
				// A failing checkpoint (a full disk, say) is logged once a
				// minute, not four times a second.
				if _, _, err := db.Checkpoint(ctx); err != nil && ctx.Err() == nil && time.Since(warned) > time.Minute {
					log.Warn("checkpointing", "err", err)
					warned = time.Now()
				}
			})
		})
	}
	sealed := make(chan struct{})
	go func() { sealer.Run(sealing); close(sealed) }()

	if addr := os.Getenv("MUTUAL_PPROF_ADDR"); addr != "" {
		// Profiling for operators, on its own address (keep it on loopback).
		runtime.SetMutexProfileFraction(5)
		runtime.SetBlockProfileRate(10000)
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			log.Warn("profiling endpoint enabled", "address", addr, "err", http.ListenAndServe(addr, mux))
		}()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("Mutual is running", "version", version, "address", "http://"+ln.Addr().String(), "base_url", cfg.BaseURL,
		"database", string(db.Dialect), "mail", sender.Describe(), "two_factor_required", cfg.RequireMFA, "max_in_flight", srv.MaxInFlight())
	if !cfg.RequireMFA {
		log.Warn("two-factor sign-in is switched off: for demonstrations only")
	}
	if !audit.ReadsAudited {
		log.Error("this binary was built for a benchmark and does not audit reads: never use it with real people's data")
	}
	// Live pages' streams end when shutting down starts, so Shutdown need
	// not wait for them.
	hs.RegisterOnShutdown(srv.StopStreams)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	cancelWorkers()
	jobs.Wait()
	svc.Close()
	// The sealer seals once more as it stops.
	stopSealing()
	<-sealed
	log.Info("stopped")
	return err
}

// groupJobs moves places on and sends reminders: every minute it ends
// the offers of waiting-list places whose hold time has passed (each place
// goes to the next person waiting) and sends the day-before reminders.
// Both are safe on any number of instances at once: each offer and each
// session is claimed by a conditional update in the transaction that acts
// on it.
func groupJobs(ctx context.Context, log *slog.Logger, g *groups.Service) {
	logCount(ctx, log, "ending expired offers of places", "offers of places ended; places moved on", "offers")(g.ExpireOffers(ctx, app.Operator("offer-expiry")))
	logCount(ctx, log, "sending session reminders", "session reminders sent", "sessions")(g.SendReminders(ctx, app.Operator("reminders")))
}

// every runs fn now and then at each interval until ctx ends: the loop of
// every background job (each job is safe on any number of instances).
func every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logCount logs a job's result: a warning for an error (unless the
// server is stopping), a line when it did something.
func logCount(ctx context.Context, log *slog.Logger, failing, done, key string) func(int, error) {
	return func(n int, err error) {
		if err != nil && ctx.Err() == nil {
			log.Warn(failing, "err", err)
		} else if err == nil && n > 0 {
			log.Info(done, key, n)
		}
	}
}

// janitor prunes expired sessions and old rate counters.
func janitor(ctx context.Context, log *slog.Logger, acc *account.Service, counters *ratelimit.Counters) {
	if err := acc.PruneSessions(ctx); err != nil && ctx.Err() == nil {
		log.Warn("pruning sessions", "err", err)
	}
	if err := counters.Prune(ctx); err != nil && ctx.Err() == nil {
		log.Warn("pruning rate counters", "err", err)
	}
	if err := acc.DB.Analyze(ctx, false); err != nil && ctx.Err() == nil {
		log.Warn("refreshing planner statistics", "err", err)
	}
}

func ignoreHelp(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "Apply pending database migrations.", stderr)
	cfg, err := parseConfig(fs, args, "database")
	if err != nil {
		return ignoreHelp(err)
	}
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	for _, m := range applied {
		fmt.Fprintln(stdout, "applied", m)
	}
	if err != nil {
		return err
	}
	v, _ := db.SchemaVersion(ctx)
	fmt.Fprintf(stdout, "database is at schema version %d\n", v)
	return nil
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user add --email E --name N --role R [--team T] [--password-stdin]",
		"Add an account. Without --password-stdin the person is invited by email to choose a password.", stderr)
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "full name (required)")
	roles := fs.String("role", "", "role(s), comma-separated: "+roleList())
	team := fs.String("team", "", "team name, for team roles (peer_worker, peer_lead, clinician, partner_worker)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	cfg, err := parseConfig(fs, args, "database", "base-url", "require-mfa")
	if err != nil {
		return ignoreHelp(err)
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer sealAndClose(db, stderr)
	svc := newServices(cfg, db, app.SystemClock{})
	defer svc.Close()
	acc := svc.Accounts
	var teamID int64
	if *team != "" {
		t, err := acc.FindTeamByName(ctx, *team)
		if err != nil {
			return err
		}
		teamID = t.ID
	}
	var ms []app.Membership
	for _, r := range strings.Split(*roles, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		m := app.Membership{Role: app.Role(r)}
		if m.Role.TeamScoped() {
			m.TeamID = teamID
		}
		ms = append(ms, m)
	}
	password := ""
	if *pwStdin {
		if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(stderr, "Password: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return err
			}
			password = string(b)
		} else {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			password = strings.TrimRight(line, "\r\n")
		}
		if password == "" {
			return errors.New("no password was given on standard input")
		}
	}
	u, err := acc.CreateUser(ctx, app.Operator("cli"), account.NewUser{Email: *email, Name: *name, Memberships: ms, Password: password})
	if err != nil {
		return describe(err)
	}
	if password == "" {
		fmt.Fprintf(stdout, "invited %s (account %d): an email with a link to choose a password is in the outbox\n", u.Email, u.ID)
	} else {
		fmt.Fprintf(stdout, "added %s (account %d)\n", u.Email, u.ID)
	}
	return nil
}

func roleList() string {
	var out []string
	for _, r := range app.Roles {
		out = append(out, string(r))
	}
	return strings.Join(out, ", ")
}

// describe turns an application error into a message for the terminal.
func describe(err error) error {
	ae := app.As(err)
	if len(ae.Fields) == 0 {
		if ae.Code == app.CodeInternal {
			return err
		}
		return errors.New(ae.Message)
	}
	var b strings.Builder
	for _, f := range ae.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return fmt.Errorf("%s:%s", ae.Message, b.String())
}

func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token create --email E [--name N] [--days D]", "Print a new bearer token for the JSON API, acting as the account. It is shown once and stored only as a hash.", stderr)
	email := fs.String("email", "", "the account's email address (required)")
	name := fs.String("name", "command line", "a name to remember the token by (at most 100 characters)")
	days := fs.Int("days", account.DefaultTokenDays, fmt.Sprintf("how many days the token works for (1 to %d)", account.MaxTokenDays))
	cfg, err := parseConfig(fs, args, "database", "base-url")
	if err != nil {
		return ignoreHelp(err)
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer sealAndClose(db, stderr)
	svc := newServices(cfg, db, app.SystemClock{})
	defer svc.Close()
	acc := svc.Accounts
	u, err := acc.FindUserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("no account has the email address %q", *email)
	}
	token, err := acc.CreateAPIToken(ctx, app.Operator("cli"), u.ID, *name, *days)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintln(stdout, token.Token)
	fmt.Fprintf(stderr, "It expires on %s.\n", token.ExpiresAt.In(app.London).Format("2 January 2006 at 15:04"))
	return nil
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo [--scale N]", "Load demonstration data (an NHS trust, a partner charity, teams, accounts of every role, referrals and offers) into an empty database.", stderr)
	scale := fs.Int("scale", 0, "also generate a large data set: N caseload episodes (for benchmarks)")
	cfg, err := parseConfig(fs, args, "database", "base-url", "require-mfa")
	if err != nil {
		return ignoreHelp(err)
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer sealAndClose(db, stderr)
	svc := newServices(cfg, db, app.SystemClock{})
	defer svc.Close()
	res, err := demo.Load(ctx, demo.Deps{DB: db, Accounts: svc.Accounts, People: svc.People, Referrals: svc.Referrals, Clock: app.SystemClock{}}, demo.Options{Scale: *scale, Log: stderr})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res.Instructions(cfg.BaseURL))
	return nil
}

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup FILE", "Take a consistent copy of the database while Mutual runs (SQLite: VACUUM INTO; PostgreSQL: prints the pg_dump command to use).", stderr)
	cfg, err := parseConfig(fs, args, "database")
	if err != nil {
		return ignoreHelp(err)
	}
	if fs.NArg() != 1 {
		return errors.New("usage: mutual backup FILE")
	}
	target := fs.Arg(0)
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Dialect == store.Postgres {
		fmt.Fprintf(stdout, "For PostgreSQL, take a consistent backup with pg_dump:\n\n  pg_dump --format=custom --file=%s '%s'\n\n"+
			"and restore it with pg_restore --dbname=… %s\n", target, redact(cfg.Database), target)
		return nil
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err == nil {
		return fmt.Errorf("%s already exists: choose a new file name", target)
	}
	if err := db.BackupTo(ctx, abs); err != nil {
		return err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up to %s (%d bytes); check it with: sqlite3 %s 'PRAGMA integrity_check'\n", abs, st.Size(), abs)
	return nil
}

func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if colon := strings.Index(dsn[i+3:at], ":"); colon >= 0 {
				return dsn[:i+3+colon] + ":…" + dsn[at:]
			}
		}
	}
	return dsn
}

func cmdAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit verify [--head SEQ:HASH]", "Seal any rows waiting to be sealed, then check the audit trail's hash chain: an edited, deleted, "+
		"reordered or forged row is reported, as are rows left unsealed. Give a head printed or logged earlier to check that the newest "+
		"rows were not removed and the chain not rewritten.", stderr)
	known := fs.String("head", "", "a head published earlier, as SEQ:HASH, that the chain must still reach")
	cfg, err := parseConfig(fs, args, "database")
	if err != nil {
		return ignoreHelp(err)
	}
	opts := audit.VerifyOptions{}
	if *known != "" {
		seq, hash, ok := strings.Cut(*known, ":")
		n, err := strconv.ParseInt(seq, 10, 64)
		if !ok || err != nil || n < 1 || len(hash) != 64 {
			return errors.New("--head must be SEQ:HASH, as printed by audit verify or logged as the audit chain head")
		}
		opts.Known = &audit.Head{Seq: n, Hash: strings.ToLower(hash)}
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	sealed, err := audit.Seal(ctx, db)
	if err != nil {
		return fmt.Errorf("sealing the audit trail: %w", err)
	}
	res, err := audit.VerifyWith(ctx, db, opts)
	if err != nil {
		return err
	}
	if !res.OK() {
		for _, p := range res.Problems {
			fmt.Fprintln(stdout, "PROBLEM:", p)
		}
		return fmt.Errorf("the audit trail has been tampered with, or is not being sealed (%d rows checked)", res.Rows)
	}
	fmt.Fprintf(stdout, "audit trail intact: %d rows (%d sealed just now); head %d:%s (row %d, %s)\n"+
		"keep the head somewhere safe: \"mutual audit verify --head %d:%s\" later detects removal of the newest rows\n",
		res.Rows, sealed, res.HeadSeq, res.HeadHash, res.HeadID, res.HeadAt.Format(time.RFC3339), res.HeadSeq, res.HeadHash)
	return nil
}

// cmdRetention forgets people whose last activity is older than the
// retention period, as the server does daily, and prints the counts (never
// names). --dry-run only counts.
func cmdRetention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("retention [--dry-run]", "Delete everything Mutual holds about people whose last activity, in every part of Mutual, "+
		"is older than the retention period (an open referral counts as activity now). The audit trail is kept: it holds ids, not "+
		"personal details, and still verifies. Prints counts only.", stderr)
	dry := fs.Bool("dry-run", false, "count who would be deleted, and change nothing")
	cfg, err := parseConfig(fs, args, "database", "retention-years")
	if err != nil {
		return ignoreHelp(err)
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer sealAndClose(db, stderr)
	svc := newServices(cfg, db, app.SystemClock{})
	defer svc.Close()
	rep, err := svc.DataRights.Retain(ctx, *dry)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep.String())
	return nil
}
