// Command loadtest is `make bench`: it builds Mutual, loads a generated
// data set, serves it, and measures requests per second and p50/p99
// latency for a signed-in page, an API read and API writes at each of
// --writers (and, on PostgreSQL, across two instances) — beside a bare
// net/http handler serving a page of the same size in the same run — and
// the insight rates view, on SQLite and on PostgreSQL. It talks only to
// 127.0.0.1 and stops by itself.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/mutualhq/mutual/internal/store"
)

var (
	scale         = flag.Int("scale", 1000000, "caseload episodes to generate (referrals are 0.3×)")
	duration      = flag.Duration("duration", 8*time.Second, "how long to load each endpoint")
	warmup        = flag.Duration("warmup", 2*time.Second, "how long to load each endpoint before measuring it (a server's first seconds open its database connections and fill its caches)")
	concurrency   = flag.Int("concurrency", 16, "concurrent clients")
	engines       = flag.String("engines", "sqlite,postgres", "engines to measure")
	writers       = flag.String("writers", "16,50", "numbers of concurrent clients for the audited-write measurements")
	benchInFlight = flag.Int("bench-max-in-flight", 128, "the benchmark server's --max-in-flight: above the most clients, so requests are measured, not shed")
	only          = flag.String("only", "", "measure only these parts (comma-separated: pages, community, reads, searches, writes, insight); empty for all")
	pgTemplate    = flag.String("postgres-template", "", "copy the PostgreSQL data from this database (made once by mutual demo --scale N; PostgreSQL 15 or later, nothing connected to it) instead of generating it each run; -scale must match it, and the data is that older demo's")
	pgURL         = flag.String("postgres", envOr("MUTUAL_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server")
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func main() {
	flag.Parse()
	do := run
	if *overload {
		do = runOverload
	}
	if err := do(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type result struct {
	name          string
	requests      int
	errors        int
	rps           float64
	p50, p99, max time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("%-40s %9.0f req/s   p50 %8s   p99 %8s   (%d requests, %d errors)",
		r.name, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.requests, r.errors)
}

// part reports whether a part of the benchmark was asked for.
func part(name string) bool {
	if *only == "" {
		return true
	}
	for _, p := range strings.Split(*only, ",") {
		if strings.TrimSpace(p) == name {
			return true
		}
	}
	return false
}

// load runs fn from concurrency goroutines for the duration.
func load(name string, fn func(c *http.Client, i int) error, clients []*http.Client) result {
	return loadN(name, *concurrency, fn, clients)
}

// loadN runs fn from n goroutines for the warm-up, unmeasured, and then
// for the duration. Measured from a cold start, the first seconds of 50
// writers on PostgreSQL (connections opened, statements prepared, pages
// read into memory) had a tenth of the rate and most of the slowest 1%
// (p99 112 ms over 20 s, against 59 ms for the same load a minute later).
func loadN(name string, n int, fn func(c *http.Client, i int) error, clients []*http.Client) result {
	var (
		mu    sync.Mutex
		lat   []time.Duration
		errs  atomic.Int64
		count atomic.Int64
	)
	warm := time.Now().Add(*warmup)
	stop := warm.Add(*duration)
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			i := 0
			for ; time.Now().Before(warm); i++ {
				_ = fn(clients[w%len(clients)], w*1_000_000+i)
			}
			for ; time.Now().Before(stop); i++ {
				t0 := time.Now()
				err := fn(clients[w%len(clients)], w*1_000_000+i)
				mine = append(mine, time.Since(t0))
				count.Add(1)
				if err != nil {
					if errs.Add(1) == 1 {
						fmt.Fprintf(os.Stderr, "  %s: first error: %v\n", name, err)
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(warm)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{name: name, requests: int(count.Load()), errors: int(errs.Load()), rps: float64(count.Load()) / elapsed.Seconds()}
	if len(lat) > 0 {
		r.p50, r.p99, r.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return r
}

func get(c *http.Client, u string, want int) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return nil
}

type secureJar struct{ *cookiejar.Jar }

func (j secureJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	v := *u
	v.Scheme = "https"
	j.Jar.SetCookies(&v, cs)
}

func (j secureJar) Cookies(u *url.URL) []*http.Cookie {
	v := *u
	v.Scheme = "https"
	return j.Jar.Cookies(&v)
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: secureJar{jar}, Timeout: 30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func run() error {
	dir, err := os.MkdirTemp("", "mutual-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "mutual")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mutual")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building: %w", err)
	}
	// The same Mutual with its reads unaudited, for the audited read's
	// baseline: only a build tag makes it, never a setting.
	unaudited = filepath.Join(dir, "mutual-unaudited-reads")
	build = exec.Command("go", "build", "-tags", "mutual_unaudited_reads_benchmark", "-o", unaudited, "./cmd/mutual")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the unaudited-reads binary: %w", err)
	}
	fmt.Printf("Mutual benchmark: %d caseload episodes, %d referrals, %d concurrent clients, %s per endpoint, %d cores\n\n",
		*scale, *scale*3/10, *concurrency, *duration, numCPU())
	for _, engine := range strings.Split(*engines, ",") {
		var dsn string
		switch engine {
		case "sqlite":
			dsn = filepath.Join(dir, "bench.db")
		case "postgres":
			dsn, err = pgDatabase()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown engine %q", engine)
		}
		if err := bench(bin, engine, dsn, dir); err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
	}
	return nil
}

// unaudited is the binary built with reads unaudited (run builds it).
var unaudited string

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

// pgDatabase creates a fresh database for the run.
func pgDatabase() (string, error) {
	admin, err := sql.Open("pgx", *pgURL)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	_, _ = admin.Exec("DROP DATABASE IF EXISTS mutual_bench")
	create := "CREATE DATABASE mutual_bench"
	if *pgTemplate != "" {
		// A file copy writes no log: a copy through the log would leave
		// gigabytes for a checkpoint during the measurement.
		create += " TEMPLATE " + pgx.Identifier{*pgTemplate}.Sanitize() + " STRATEGY FILE_COPY"
	}
	if _, err := admin.Exec(create); err != nil {
		return "", fmt.Errorf("creating the benchmark database (is PostgreSQL running?): %w", err)
	}
	u, err := url.Parse(*pgURL)
	if err != nil {
		return "", err
	}
	u.Path = "/mutual_bench"
	return u.String(), nil
}

func mutual(bin, dsn string, args ...string) (string, error) {
	cmd := exec.Command(bin, append(args, "--database", dsn)...)
	cmd.Env = append(os.Environ(), "MUTUAL_REQUIRE_MFA=false")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// serve starts one Mutual server on dsn and waits until it is ready.
func serve(bin, dsn, dir string) (base string, stop func(), err error) {
	addr := freeAddr()
	// The benchmark measures the work itself, so admission control is
	// opened wide enough for every client (make overload measures it).
	srv := exec.Command(bin, "serve", "--database", dsn, "--addr", addr, "--mail-dir", filepath.Join(dir, "mail"), "--log-level", "error",
		"--max-in-flight", fmt.Sprint(*benchInFlight))
	srv.Env = append(os.Environ(), "MUTUAL_REQUIRE_MFA=false")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return "", nil, err
	}
	stop = func() { _ = srv.Process.Kill(); _ = srv.Wait() }
	base = "http://" + addr
	for i := 0; ; i++ {
		if get(http.DefaultClient, base+"/readyz", 200) == nil {
			return base, stop, nil
		}
		if i > 200 {
			stop()
			return "", nil, fmt.Errorf("server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func bench(bin, engine, dsn, dir string) error {
	fmt.Printf("== %s ==\n", engine)
	t0 := time.Now()
	if engine == "postgres" && *pgTemplate != "" {
		// The copy is of a database already loaded; creating the token
		// below migrates it if it is older.
		fmt.Printf("data copied from %s\n", *pgTemplate)
	} else {
		if _, err := mutual(bin, dsn, "demo", "--scale", fmt.Sprint(*scale)); err != nil {
			return err
		}
		fmt.Printf("data loaded in %s\n", time.Since(t0).Round(time.Second))
	}
	token, err := mutual(bin, dsn, "token", "create", "--email", "priya.shah@riverside.demo.nhs.uk")
	if err != nil {
		return err
	}
	base, stopServer, err := serve(bin, dsn, dir)
	if err != nil {
		return err
	}
	defer stopServer()
	// Signed-in clients: the peer lead's home page (waiting-list counts).
	var clients []*http.Client
	for range *concurrency {
		c := newClient()
		resp, err := c.PostForm(base+"/sign-in", url.Values{"email": {"lead@mutual.demo"}, "password": {"peer-support-demo"}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("sign-in: %d", resp.StatusCode)
		}
		clients = append(clients, c)
	}
	page, err := fetch(clients[0], base+"/")
	if err != nil {
		return err
	}
	// A referral the API client may read.
	apiClient := newClient()
	var referralID int64
	{
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/referrals?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := apiClient.Do(req)
		if err != nil {
			return err
		}
		var pg struct {
			Referrals []struct {
				ID int64 `json:"id"`
			} `json:"referrals"`
		}
		err = json.NewDecoder(resp.Body).Decode(&pg)
		resp.Body.Close()
		if err != nil || len(pg.Referrals) == 0 {
			return fmt.Errorf("finding a referral to read: %v", err)
		}
		referralID = pg.Referrals[0].ID
	}
	bearer := func(method, u string, body []byte, want int) error {
		return bearerTo(apiClient, token, method, u, body, want)
	}

	if part("pages") {
		if err := againstBare("signed-in page (GET /)", base+"/", page, clients); err != nil {
			return err
		}
	}
	if part("community") {
		if err := communityPages(bin, dsn, base); err != nil {
			return err
		}
	}
	if part("reads") {
		audited := load("API read (GET referral, audited)", func(_ *http.Client, _ int) error {
			return bearer(http.MethodGet, fmt.Sprintf("%s/api/v1/referrals/%d", base, referralID), nil, 200)
		}, clients)
		fmt.Println(audited)
		// The same request to the same data, served by the build whose
		// reads are not audited: issue #9's bar is audited ≥ 50% of it.
		baseU, stopU, err := serve(unaudited, dsn, dir)
		if err != nil {
			return err
		}
		plain := load("API read (GET referral, unaudited build)", func(_ *http.Client, _ int) error {
			return bearer(http.MethodGet, fmt.Sprintf("%s/api/v1/referrals/%d", baseU, referralID), nil, 200)
		}, clients)
		stopU()
		fmt.Println(plain)
		fmt.Printf("audited / unaudited = %.1f%% (target ≥ 50%%)\n", 100*audited.rps/plain.rps)
	}
	if part("searches") {
		// Writes while 16 clients search for people by a fragment that
		// matches many (a scan of the people table each time): the writes
		// must not queue behind the searches.
		// createPerson is one audited write: a person and its audit row.
		createPerson := func(prefix string) func(*http.Client, int) error {
			return func(_ *http.Client, i int) error {
				body, _ := json.Marshal(map[string]any{"preferred_name": fmt.Sprintf("%s %d", prefix, i), "not_duplicate": true})
				return bearer(http.MethodPost, base+"/api/v1/people", body, 201)
			}
		}
		alone := loadN("API write (POST person) alone ×16", 16, createPerson("Alone"), clients)
		fmt.Println(alone)
		var searched result
		done := make(chan struct{})
		go func() {
			defer close(done)
			searched = loadN("  16 slow searches (GET people?q=an)", 16, func(_ *http.Client, _ int) error {
				return bearer(http.MethodGet, base+"/api/v1/people?q=an&limit=50", nil, 200)
			}, clients)
		}()
		during := loadN("API write (POST person) ×16 during searches", 16, createPerson("During"), clients)
		<-done
		fmt.Println(during)
		fmt.Println(searched)
		fmt.Printf("writes during searches / alone = %.1f%%\n", 100*during.rps/alone.rps)
	}
	if part("writes") {
		// Audited writes at each number of writers: each POST creates a
		// person and its audit row in one transaction.
		for _, n := range writerCounts() {
			fmt.Println(loadN(fmt.Sprintf("API write (POST person, audited) ×%d", n), n, func(_ *http.Client, i int) error {
				body, _ := json.Marshal(map[string]any{"preferred_name": fmt.Sprintf("Bench %d", i), "not_duplicate": true})
				return bearer(http.MethodPost, base+"/api/v1/people", body, 201)
			}, clients))
		}
		if engine == "postgres" {
			// A second instance on the same database: the writers are
			// shared between the two, as behind a load balancer.
			base2, stop2, err := serve(bin, dsn, dir)
			if err != nil {
				return err
			}
			bases := []string{base, base2}
			for _, n := range writerCounts() {
				fmt.Println(loadN(fmt.Sprintf("API write, 2 instances ×%d", n), n, func(_ *http.Client, i int) error {
					body, _ := json.Marshal(map[string]any{"preferred_name": fmt.Sprintf("Bench2 %d", i), "not_duplicate": true})
					return bearer(http.MethodPost, bases[(i/1_000_000)%2]+"/api/v1/people", body, 201)
				}, clients))
			}
			stop2()
		}
	}
	if !part("insight") {
		fmt.Println()
		return nil
	}

	// Insight: the rates view and API over the whole data set, one request
	// at a time, as a manager would use it.
	manager := newClient()
	resp, err := manager.PostForm(base+"/sign-in", url.Values{"email": {"manager@mutual.demo"}, "password": {"peer-support-demo"}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	for _, q := range []string{"/api/v1/insight/referral-rates?by=coordinator", "/api/v1/insight/referral-rates?by=team&measure=offered",
		"/insight/rates", "/api/v1/insight/equity", "/insight/coverage", "/api/v1/insight/waiting"} {
		var times []time.Duration
		for range 5 {
			t0 := time.Now()
			if err := get(manager, base+q, 200); err != nil {
				return err
			}
			times = append(times, time.Since(t0))
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		fmt.Printf("%-58s median %8s   worst %8s\n", q, times[2].Round(time.Millisecond), times[4].Round(time.Millisecond))
	}
	fmt.Println()
	return nil
}

// againstBare loads a page, and a bare net/http handler serving a page of
// the same bytes on the same machine in the same run, and prints both and
// their ratio.
func againstBare(name, u string, page []byte, clients []*http.Client) error {
	bareAddr := freeAddr()
	bare := &http.Server{Addr: bareAddr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})}
	ln, err := net.Listen("tcp", bareAddr)
	if err != nil {
		return err
	}
	go func() { _ = bare.Serve(ln) }()
	bareRes := load("bare net/http page", func(c *http.Client, _ int) error { return get(c, "http://"+bareAddr+"/", 200) }, clients)
	_ = bare.Shutdown(context.Background())
	pageRes := load(name, func(c *http.Client, _ int) error { return get(c, u, 200) }, clients)
	fmt.Printf("page size %d bytes\n", len(page))
	fmt.Println(bareRes)
	fmt.Println(pageRes)
	fmt.Printf("%s / bare handler = %.1f%% (target ≥ 25%%)\n", name, 100*pageRes.rps/bareRes.rps)
	return nil
}

// communityPages measures a topic page with 500 replies and its space's
// front page, each beside a bare handler serving the same bytes: the
// moderator (a member under a display name) opens a topic in the first
// space and replies 499 times through the API, then moderators' browser
// sessions read both pages.
func communityPages(bin, dsn, base string) error {
	token, err := mutual(bin, dsn, "token", "create", "--email", "moderator@mutual.demo")
	if err != nil {
		return err
	}
	api := newClient()
	call := func(method, path string, in any, want int, out any) error {
		var body []byte
		if in != nil {
			body, _ = json.Marshal(in)
		}
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := api.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		if out != nil {
			return json.Unmarshal(b, out)
		}
		return nil
	}
	// Joining is idempotent enough: an existing member keeps their name.
	_ = call(http.MethodPut, "/api/v1/community/settings", map[string]any{"display_name": "Bench Moderator"}, 200, nil)
	var spaces struct {
		Spaces []struct {
			ID int64 `json:"id"`
		} `json:"spaces"`
	}
	if err := call(http.MethodGet, "/api/v1/spaces", nil, 200, &spaces); err != nil {
		return err
	}
	if len(spaces.Spaces) == 0 {
		return fmt.Errorf("the demo data has no community space")
	}
	space := spaces.Spaces[0].ID
	var made struct {
		Topic struct {
			ID int64 `json:"id"`
		} `json:"topic"`
	}
	if err := call(http.MethodPost, fmt.Sprintf("/api/v1/spaces/%d/topics", space), map[string]any{"title": "A long conversation",
		"body": "What has helped you on a hard day? Share one thing, however small."}, 201, &made); err != nil {
		return err
	}
	// A trusted member may post 200 replies a day: those go through the
	// API, and copies of them make up the rest.
	const posted = 200
	t0 := time.Now()
	for i := range posted {
		body := fmt.Sprintf("Reply %d: a walk, a cup of tea, a message to a friend. Some days just getting through is enough, and that counts too.", i+1)
		if err := call(http.MethodPost, fmt.Sprintf("/api/v1/topics/%d/posts", made.Topic.ID), map[string]any{"body": body}, 201, nil); err != nil {
			return err
		}
	}
	fmt.Printf("community: %d replies posted one at a time in %s (%.1f ms each, watched words checked)\n",
		posted, time.Since(t0).Round(time.Millisecond), float64(time.Since(t0).Microseconds())/posted/1000)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		return err
	}
	for _, n := range []int{posted, 499 - 2*posted} {
		if _, err := db.Exec(context.Background(), `INSERT INTO community_posts (topic_id, opening, author_user_id, author_role, body, status, found, signposted, created_at)
			SELECT topic_id, opening, author_user_id, author_role, body, status, found, signposted, created_at FROM community_posts
			WHERE topic_id = $1 AND NOT opening ORDER BY id LIMIT $2`, made.Topic.ID, n); err != nil {
			db.Close()
			return err
		}
	}
	db.Close()
	var clients []*http.Client
	for range *concurrency {
		c := newClient()
		resp, err := c.PostForm(base+"/sign-in", url.Values{"email": {"moderator@mutual.demo"}, "password": {"peer-support-demo"}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("moderator sign-in: %d", resp.StatusCode)
		}
		clients = append(clients, c)
	}
	for _, pg := range []struct{ name, path string }{
		{"topic page, 500 posts", fmt.Sprintf("/community/topics/%d", made.Topic.ID)},
		{"space front page", fmt.Sprintf("/community/spaces/%d", space)},
	} {
		page, err := fetch(clients[0], base+pg.path)
		if err != nil {
			return err
		}
		if err := againstBare(pg.name, base+pg.path, page, clients); err != nil {
			return err
		}
	}
	return nil
}

// writerCounts parses --writers.
func writerCounts() []int {
	var out []int
	for _, f := range strings.Split(*writers, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// bearerTo sends one API request with the bearer token and checks the
// status.
func bearerTo(c *http.Client, token, method, u string, body []byte, want int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d", method, u, resp.StatusCode)
	}
	return nil
}

func fetch(c *http.Client, u string) ([]byte, error) {
	resp, err := c.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}
