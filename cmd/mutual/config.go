package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole deployment configuration, from flags and MUTUAL_*
// environment variables (a flag wins over the variable). Secrets may
// instead be read from a file named by the variable with a _FILE suffix.
type Config struct {
	Addr           string
	Database       string
	BaseURL        string
	SMTPURL        string
	MailDir        string
	RequireMFA     bool
	WaitingDays    int
	RetentionYears int
	SuppressBelow  int
	// ReviewWeeks is how often reviews happen unless the person chose;
	// AckDays and AnswerDays are the working-day targets for feedback.
	ReviewWeeks     int
	AckDays         int
	AnswerDays      int
	TrustedProxies  []netip.Prefix
	LogFormat       string
	LogLevel        string
	ShutdownTimeout time.Duration
	SessionRecheck  time.Duration
	MaxInFlight     int
}

// option is one configuration setting: its flag, its variable and how to
// read it.
type option struct {
	flag, env, def, usage string
	secret                bool
	set                   func(c *Config, v string) error
}

var options = []option{
	{"addr", "MUTUAL_ADDR", "127.0.0.1:8080", "address to listen on", false, func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("must be host:port, like 127.0.0.1:8080 or :8080")
		}
		c.Addr = v
		return nil
	}},
	{"database", "MUTUAL_DATABASE_URL", "data/mutual.db", "SQLite file path, or postgres://user:pass@host/db", true, func(c *Config, v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("must not be empty")
		}
		if strings.Contains(v, "://") && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
			return errors.New("must be a SQLite file path or a postgres:// URL")
		}
		c.Database = v
		return nil
	}},
	{"base-url", "MUTUAL_BASE_URL", "", "public address for links in email (default http://ADDR)", false, func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return errors.New("must be an address like https://peer-support.example.nhs.uk")
		}
		c.BaseURL = strings.TrimSuffix(v, "/")
		return nil
	}},
	{"smtp-url", "MUTUAL_SMTP_URL", "", "SMTP server, e.g. smtp://user:pass@host:587?from=peer-support@example.org; empty: mail goes to --mail-dir", true, func(c *Config, v string) error {
		c.SMTPURL = v
		return nil
	}},
	{"mail-dir", "MUTUAL_MAIL_DIR", "data/mail", "folder for email when no SMTP server is set", false, func(c *Config, v string) error {
		c.MailDir = v
		return nil
	}},
	{"require-mfa", "MUTUAL_REQUIRE_MFA", "true", "staff must use two-factor sign-in (false only for demonstrations)", false, func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.RequireMFA = b
		return nil
	}},
	{"waiting-standard-days", "MUTUAL_WAITING_STANDARD_DAYS", "28", "days a referral may wait before it is shown as past the standard", false, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 365 {
			return errors.New("must be a whole number of days from 1 to 365")
		}
		c.WaitingDays = n
		return nil
	}},
	{"retention-years", "MUTUAL_RETENTION_YEARS", "20", "years after their last activity that people's data is kept before the retention job deletes it (NHS records code: 20 years after care ends)", false, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return errors.New("must be a whole number of years from 1 to 100")
		}
		c.RetentionYears = n
		return nil
	}},
	{"suppress-below", "MUTUAL_SUPPRESS_BELOW", "5", "aggregate counts from 1 to this minus one are shown as \"<N\"", false, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return errors.New("must be a whole number from 1 to 100")
		}
		c.SuppressBelow = n
		return nil
	}},
	{"review-weeks", "MUTUAL_REVIEW_WEEKS", "12", "how often reviews happen, in weeks, unless the person chose otherwise", false, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 52 {
			return errors.New("must be a whole number of weeks from 1 to 52")
		}
		c.ReviewWeeks = n
		return nil
	}},
	{"feedback-acknowledge-days", "MUTUAL_FEEDBACK_ACKNOWLEDGE_DAYS", "5", "working days to acknowledge feedback", false, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 60 {
			return errors.New("must be a whole number of working days from 1 to 60")
		}
		c.AckDays = n
		return nil
	}},
	{"feedback-answer-days", "MUTUAL_FEEDBACK_ANSWER_DAYS", "20", "working days to answer feedback (what we will do, or why not)", false, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 120 {
			return errors.New("must be a whole number of working days from 1 to 120")
		}
		c.AnswerDays = n
		return nil
	}},
	{"trusted-proxies", "MUTUAL_TRUSTED_PROXIES", "", "comma-separated CIDR ranges of reverse proxies whose X-Forwarded-For is believed", false, func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return fmt.Errorf("%q is not a CIDR range like 10.0.0.0/8", part)
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{"log-format", "MUTUAL_LOG_FORMAT", "text", "log format: text or json", false, func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	}},
	{"log-level", "MUTUAL_LOG_LEVEL", "info", "log level: debug, info, warn or error", false, func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return errors.New("must be debug, info, warn or error")
	}},
	{"session-recheck", "MUTUAL_SESSION_RECHECK", "1s", "how long one instance may reuse a session check before reading the database again (0 for every request); sign-out on another instance takes effect within this", false, func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 10*time.Second {
			return errors.New("must be a duration from 0s to 10s, like 1s")
		}
		c.SessionRecheck = d
		return nil
	}},
	{"max-in-flight", "MUTUAL_MAX_IN_FLIGHT", "0", "requests worked on at once; more wait up to 100ms for a turn, then get 503 with Retry-After: 1 (0: twice the database pool, at least 8 per CPU)", false, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100000 {
			return errors.New("must be a whole number from 0 (automatic) to 100000")
		}
		c.MaxInFlight = n
		return nil
	}},
	{"shutdown-timeout", "MUTUAL_SHUTDOWN_TIMEOUT", "20s", "how long to let requests in flight finish on SIGTERM", false, func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 10*time.Minute {
			return errors.New("must be a duration like 20s")
		}
		c.ShutdownTimeout = d
		return nil
	}},
}

// configFlags registers the named options on fs and returns a function
// that, after fs.Parse, builds and validates the whole configuration:
// flags first, then environment variables, then defaults. Every problem is
// reported at once.
func configFlags(fs *flag.FlagSet, names ...string) func() (*Config, error) {
	values := map[string]*string{}
	wanted := map[string]bool{}
	for _, n := range names {
		wanted[n] = true
	}
	for _, o := range options {
		if !wanted[o.flag] {
			continue
		}
		usage := fmt.Sprintf("%s (env %s", o.usage, o.env)
		if o.secret {
			usage += " or " + o.env + "_FILE"
		}
		usage += ")"
		values[o.flag] = fs.String(o.flag, "", usage+"; default "+strconv.Quote(o.def))
	}
	return func() (*Config, error) {
		c := &Config{}
		var problems []string
		for _, o := range options {
			v, source := o.def, "default"
			if ev, ok := os.LookupEnv(o.env); ok {
				v, source = ev, o.env
			} else if o.secret {
				if file, ok := os.LookupEnv(o.env + "_FILE"); ok {
					b, err := os.ReadFile(file)
					if err != nil {
						problems = append(problems, fmt.Sprintf("%s_FILE: cannot read %s: %v", o.env, file, err))
						continue
					}
					v, source = strings.TrimSpace(string(b)), o.env+"_FILE"
				}
			}
			if p, ok := values[o.flag]; ok && flagSet(fs, o.flag) {
				v, source = *p, "--"+o.flag
			}
			if err := o.set(c, v); err != nil {
				problems = append(problems, fmt.Sprintf("%s (from %s): %v", o.flag, source, err))
			}
		}
		if c.BaseURL == "" {
			host, port, _ := net.SplitHostPort(c.Addr)
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			c.BaseURL = "http://" + net.JoinHostPort(host, port)
		}
		if len(problems) > 0 {
			return nil, fmt.Errorf("the configuration has %d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
		}
		return c, nil
	}
}

func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// Secure reports whether the base URL can carry Secure cookies: HTTPS, or
// loopback, which browsers treat as a secure context.
func (c *Config) Secure() bool {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}
