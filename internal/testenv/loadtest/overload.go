package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// make overload: how one instance behaves when far more clients arrive
// than it can serve. It finds the capacity of a signed-in list page (a peer
// lead's /referrals) by raising the number of clients until throughput
// stops growing, then runs at three times that concurrency and at 1,500
// connections, and reports the latency of the requests that were served,
// the share answered 503 (and how fast), any other 5xx, and how long after
// the overload stops the latency is back to normal. -compare runs the same
// with admission control switched off (a limit no load reaches). Everything
// talks to 127.0.0.1 only and stops by itself.

var (
	overload      = flag.Bool("overload", false, "measure behaviour under overload instead of the benchmark")
	overloadScale = flag.Int("overload-scale", 20000, "caseload episodes for the overload run's data (referrals are 0.3×)")
	connections   = flag.Int("connections", 1500, "connections for the flood phase")
	phase         = flag.Duration("phase", 10*time.Second, "how long each overload phase runs")
	maxInFlight   = flag.Int("max-in-flight", 0, "the server's --max-in-flight (0: its default)")
	compare       = flag.Bool("compare", false, "also run with admission control off, for comparison")
)

// sample is one request's outcome.
type sample struct {
	done    time.Time
	latency time.Duration
	status  int // 0: the request failed (timeout, connection reset)
}

// phaseResult summarises a run of samples.
type phaseResult struct {
	name                     string
	conc                     int
	total, ok, shed, other5x int
	failed                   int
	rps                      float64
	p50, p99, shedP99, max   time.Duration
}

// summarise counts the samples; served per second counts only those done
// by until (requests still in flight when a phase is stopped finish later,
// and would inflate it), latencies count them all.
func summarise(name string, conc int, ss []sample, start, until time.Time) phaseResult {
	r := phaseResult{name: name, conc: conc, total: len(ss)}
	var okLat, shedLat []time.Duration
	served := 0
	for _, s := range ss {
		if s.status == http.StatusOK && !s.done.After(until) {
			served++
		}
		switch {
		case s.status == http.StatusOK:
			r.ok++
			okLat = append(okLat, s.latency)
		case s.status == http.StatusServiceUnavailable:
			r.shed++
			shedLat = append(shedLat, s.latency)
		case s.status >= 500:
			r.other5x++
		case s.status == 0:
			r.failed++
		}
	}
	r.rps = float64(served) / until.Sub(start).Seconds()
	r.p50, r.p99, r.max = pct(okLat, 50), pct(okLat, 99), pct(okLat, 100)
	r.shedP99 = pct(shedLat, 99)
	return r
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := len(ds) * p / 100
	if i >= len(ds) {
		i = len(ds) - 1
	}
	return ds[i]
}

func (r phaseResult) String() string {
	share := 0.0
	if r.total > 0 {
		share = 100 * float64(r.shed) / float64(r.total)
	}
	return fmt.Sprintf("%-26s %5d clients  %7.0f served/s  served p50 %8s p99 %8s max %8s  | 503 %5.1f%% (p99 %7s)  other 5xx %d  failed %d  (%d requests)",
		r.name, r.conc, r.rps, r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), r.max.Round(time.Millisecond),
		share, r.shedP99.Round(100*time.Microsecond), r.other5x, r.failed, r.total)
}

// flood runs conc closed-loop clients against u until stop is closed,
// sending each outcome to record. Polite clients wait as a 503's
// Retry-After asks, as browsers retried by people and well-behaved API
// clients do; impolite ones send again at once.
func flood(client *http.Client, u string, conc int, polite bool, stop <-chan struct{}, record func(sample)) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				status := 0
				retryAfter := ""
				resp, err := client.Get(u)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
					retryAfter = resp.Header.Get("Retry-After")
				}
				record(sample{done: time.Now(), latency: time.Since(t0), status: status})
				if polite && status == http.StatusServiceUnavailable {
					wait := time.Second
					if n, err := strconv.Atoi(retryAfter); err == nil {
						wait = time.Duration(n) * time.Second
					}
					select {
					case <-stop:
						return
					case <-time.After(wait):
					}
				}
			}
		}()
	}
	return &wg
}

// runPhase floods for d and summarises.
func runPhase(client *http.Client, u, name string, conc int, polite bool, d time.Duration) phaseResult {
	var mu sync.Mutex
	var ss []sample
	stop := make(chan struct{})
	start := time.Now()
	wg := flood(client, u, conc, polite, stop, func(s sample) {
		mu.Lock()
		ss = append(ss, s)
		mu.Unlock()
	})
	time.Sleep(d)
	stopAt := time.Now()
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return summarise(name, conc, ss, start, stopAt)
}

func newFloodClient(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 90 * time.Second,
		DialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func runOverload() error {
	dir, err := os.MkdirTemp("", "mutual-overload")
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
	fmt.Printf("Mutual overload: a peer lead's /referrals, %d caseload episodes, %s phases, flood of %d connections, %d cores\n\n",
		*overloadScale, *phase, *connections, numCPU())
	for _, engine := range strings.Split(*engines, ",") {
		var dsn string
		switch engine {
		case "sqlite":
			dsn = filepath.Join(dir, "overload.db")
		case "postgres":
			if dsn, err = pgDatabase(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown engine %q", engine)
		}
		fmt.Printf("== %s ==\n", engine)
		t0 := time.Now()
		if _, err := mutual(bin, dsn, "demo", "--scale", fmt.Sprint(*overloadScale)); err != nil {
			return err
		}
		fmt.Printf("data loaded in %s\n", time.Since(t0).Round(time.Second))
		limits := []int{*maxInFlight}
		if *compare {
			limits = append(limits, 100000)
		}
		for _, limit := range limits {
			if err := overloadRun(bin, dsn, dir, limit); err != nil {
				return fmt.Errorf("%s: %w", engine, err)
			}
		}
	}
	return nil
}

func overloadRun(bin, dsn, dir string, limit int) error {
	addr := freeAddr()
	srv := exec.Command(bin, "serve", "--database", dsn, "--addr", addr, "--mail-dir", filepath.Join(dir, "mail"),
		"--log-level", "info", "--max-in-flight", fmt.Sprint(limit))
	srv.Env = append(os.Environ(), "MUTUAL_REQUIRE_MFA=false")
	logs, err := srv.StderrPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	// The server's log: its limit, and every line at ERROR (a request
	// failed) or about clients that went away.
	var errorLines, goneLines atomic.Int64
	var firstError atomic.Value
	effective := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.Contains(line, "Mutual is running"):
				if i := strings.Index(line, "max_in_flight="); i >= 0 {
					effective <- strings.Fields(line[i+len("max_in_flight="):])[0]
				}
			case strings.Contains(line, "level=ERROR"):
				if errorLines.Add(1) == 1 {
					firstError.Store(line)
				}
			case strings.Contains(line, "client went away"):
				goneLines.Add(1)
			}
		}
	}()
	base := "http://" + addr
	for i := 0; ; i++ {
		if get(http.DefaultClient, base+"/readyz", 200) == nil {
			break
		}
		if i > 400 {
			return fmt.Errorf("server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	lim := <-effective
	if limit == 100000 {
		fmt.Printf("-- admission control off (--max-in-flight %s) --\n", lim)
	} else {
		fmt.Printf("-- admission control on (--max-in-flight %s) --\n", lim)
	}
	// One signed-in session shared by every client: the page, not sign-in,
	// is being measured.
	signin := newClient()
	resp, err := signin.PostForm(base+"/sign-in", url.Values{"email": {"lead@mutual.demo"}, "password": {"peer-support-demo"}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	var cookie string
	for _, c := range signin.Jar.Cookies(&url.URL{Scheme: "https", Host: addr, Path: "/"}) {
		if c.Name == "__Host-mutual" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		return errors.New("sign-in gave no session cookie")
	}
	client := newFloodClient(*connections)
	client.Transport = cookieTransport{rt: client.Transport, cookie: cookie}
	page := base + "/referrals"
	if err := get(client, page, 200); err != nil {
		return err
	}

	// Capacity: more clients until served requests per second stop growing.
	var best phaseResult
	for c, since := 1, 0; c <= 256 && since < 2; c *= 2 {
		r := runPhase(client, page, "capacity search", c, true, 3*time.Second)
		fmt.Println(r)
		if r.rps > best.rps*1.05 {
			best, since = r, 0
		} else {
			since++
		}
	}
	fmt.Printf("capacity: %.0f pages/s at %d clients (p50 %s, p99 %s)\n", best.rps, best.conc, best.p50.Round(100*time.Microsecond), best.p99.Round(100*time.Microsecond))
	for _, polite := range []bool{true, false} {
		if polite {
			fmt.Println("clients that wait as Retry-After asks:")
		} else {
			fmt.Println("clients that send again at once:")
		}
		fmt.Println(runPhase(client, page, "  3x capacity concurrency", 3*best.conc, polite, *phase))
		fmt.Println(floodAndRecover(client, page, polite, best))
	}
	time.Sleep(500 * time.Millisecond) // the log reader catches up
	fmt.Printf("server log: %d lines at ERROR, %d clients that went away logged as such", errorLines.Load(), goneLines.Load())
	if l, ok := firstError.Load().(string); ok {
		fmt.Printf("; first error: %.300s", l)
	}
	fmt.Print("\n\n")
	client.CloseIdleConnections()
	return nil
}

// floodAndRecover runs the flood, then measures recovery: probe clients at
// capacity concurrency start the moment the flood is told to stop, and
// latency is watched in 250 ms windows until a window's p99 is back to
// what it was at capacity.
func floodAndRecover(client *http.Client, page string, polite bool, best phaseResult) string {
	normal := best.p99
	var mu sync.Mutex
	var ss []sample
	stop := make(chan struct{})
	start := time.Now()
	wg := flood(client, page, *connections, polite, stop, func(s sample) { mu.Lock(); ss = append(ss, s); mu.Unlock() })
	time.Sleep(*phase)
	stopAt := time.Now()
	close(stop)
	var pmu sync.Mutex
	var probes []sample
	pstop := make(chan struct{})
	pwg := flood(client, page, best.conc, true, pstop, func(s sample) { pmu.Lock(); probes = append(probes, s); pmu.Unlock() })
	wg.Wait()
	drained := time.Since(stopAt)
	mu.Lock()
	out := summarise("  flood", *connections, ss, start, stopAt).String() + "\n"
	mu.Unlock()
	const window = 250 * time.Millisecond
	bound := max(normal*3/2, normal+10*time.Millisecond)
	recovered := time.Duration(-1)
	for deadline := stopAt.Add(30 * time.Second); time.Now().Before(deadline) && recovered < 0; {
		time.Sleep(window)
		pmu.Lock()
		buckets := map[int][]sample{}
		for _, s := range probes {
			if s.done.After(stopAt) {
				i := int(s.done.Sub(stopAt) / window)
				buckets[i] = append(buckets[i], s)
			}
		}
		pmu.Unlock()
		for i := 0; i < int(time.Since(stopAt)/window); i++ {
			var lat []time.Duration
			bad := false
			for _, s := range buckets[i] {
				lat = append(lat, s.latency)
				bad = bad || s.status != http.StatusOK
			}
			if len(lat) >= 5 && !bad && pct(lat, 99) <= bound {
				recovered = time.Duration(i+1) * window
				break
			}
		}
	}
	close(pstop)
	pwg.Wait()
	if recovered < 0 {
		return out + fmt.Sprintf("  recovery: p99 not back under %s within 30s of the flood stopping", bound.Round(100*time.Microsecond))
	}
	return out + fmt.Sprintf("  recovery: p99 back under %s (capacity p99 %s) within %s of the flood stopping; its last requests drained in %s",
		bound.Round(100*time.Microsecond), normal.Round(100*time.Microsecond), recovered, drained.Round(time.Millisecond))
}

// cookieTransport sends the session cookie on every request.
type cookieTransport struct {
	rt     http.RoundTripper
	cookie string
}

func (c cookieTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Cookie", c.cookie)
	return c.rt.RoundTrip(r)
}

func (c cookieTransport) CloseIdleConnections() {
	if t, ok := c.rt.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}
