package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/store"
)

// scale adds a large generated data set for benchmarks: n caseload
// episodes for n/2 people across 300 co-ordinators, starting evenly over
// ten years and lasting on average 18 months (so about 15% are open now,
// as on a real trust's caseload), with 0.3n referrals and 0.2n offers made
// during episodes. It writes straight to the tables in large batches: this
// is synthetic load, not anyone's story, so it is not audited.
func (l *loader) scale(ctx context.Context, n int) error {
	now := l.Clock.Now()
	hash, err := l.acc.Hasher.Hash(ctx, Password)
	if err != nil {
		return err
	}
	var teamIDs []int64
	for _, key := range []string{"north", "south", "crisis", "transitions", "ward"} {
		teamIDs = append(teamIDs, l.teams[key].ID)
	}
	const coordinatorCount = 300
	type coord struct {
		id    int64
		email string
		team  int64
		rate  float64
	}
	coords := make([]coord, coordinatorCount)
	err = l.DB.Write(ctx, func(tx *store.Tx) error {
		for i := range coords {
			c := coord{email: fmt.Sprintf("coordinator%03d@scale.demo.nhs.uk", i), team: teamIDs[i%len(teamIDs)], rate: 0.15 + 0.3*l.rng.Float64()}
			if i%37 == 0 {
				c.rate = 0.02
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, status, created_at, updated_at)
				VALUES ($1, $2, $3, 'active', $4, $4) RETURNING id`, c.email, fmt.Sprintf("Scale Co-ordinator %03d", i), hash, now).Scan(&c.id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO memberships (user_id, role, team_id, created_at) VALUES ($1, 'clinician', $2, $3)", c.id, c.team, now); err != nil {
				return err
			}
			coords[i] = c
		}
		return nil
	})
	if err != nil {
		return err
	}
	people := max(n/2, 1)
	var firstPerson int64
	if err := l.DB.QueryRow(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM people").Scan(&firstPerson); err != nil {
		return err
	}
	eths := []string{"white_british", "white_british", "white_british", "white_british", "asian_pakistani", "black_caribbean", "black_african", "asian_indian", "white_other", "prefer_not_to_say"}
	genders := []string{"woman", "man", "woman", "man", "non_binary", "prefer_not_to_say"}
	if err := l.bulk(ctx, "people", []string{"id", "preferred_name", "trust_ref", "birth_year", "gender", "ethnicity", "disability", "first_language", "created_at", "updated_at"},
		people, func(i int) []any {
			return []any{firstPerson + int64(i), l.pick(firstNames), fmt.Sprintf("SC%09d", i), now.Year() - 18 - l.rng.IntN(60),
				genders[l.rng.IntN(len(genders))], eths[l.rng.IntN(len(eths))], []string{"yes", "no", "no"}[l.rng.IntN(3)], "English", now, now}
		}); err != nil {
		return err
	}
	if l.DB.Dialect == store.Postgres {
		// Rows were given explicit ids; move the identity past them.
		if _, err := l.DB.Exec(ctx, "SELECT setval(pg_get_serial_sequence('people', 'id'), (SELECT MAX(id) FROM people))"); err != nil {
			return err
		}
	}
	type ep struct {
		person     int64
		c          int
		start, end time.Time
	}
	eps := make([]ep, n)
	for i := range eps {
		start := now.AddDate(0, 0, -l.rng.IntN(10*365))
		end := start.Add(time.Duration(l.rng.ExpFloat64()*540*24) * time.Hour)
		if end.After(now) {
			end = time.Time{}
		}
		eps[i] = ep{person: firstPerson + int64(l.rng.IntN(people)), c: l.rng.IntN(coordinatorCount), start: start, end: end}
	}
	if err := l.bulk(ctx, "caseload_episodes", []string{"person_id", "person_ref", "team_id", "coordinator_email", "coordinator_user_id",
		"start_date", "end_date", "setting", "imported_at"}, n, func(i int) []any {
		e := eps[i]
		c := coords[e.c]
		var end any
		if !e.end.IsZero() {
			end = day(e.end)
		}
		// The unique key includes the start date; the row number keeps
		// generated references distinct.
		return []any{e.person, fmt.Sprintf("SC%09d-%d", e.person-firstPerson, i), c.team, c.email, c.id, day(e.start), end, "community", now}
	}); err != nil {
		return err
	}
	l.res.Episodes += n
	refs := n * 3 / 10
	statuses := []string{"received", "accepted", "allocated", "active", "ended", "ended", "declined", "withdrawn"}
	// One open referral per person, as the database requires.
	open := map[int64]bool{}
	if err := l.bulk(ctx, "referrals", []string{"reference", "person_id", "source", "status", "team_id", "referrer_user_id", "referrer_team_id",
		"consent", "received_at", "first_contact_at", "updated_at"}, refs, func(i int) []any {
		e := eps[l.rng.IntN(n)]
		c := coords[e.c]
		span := now.Sub(e.start)
		if !e.end.IsZero() {
			span = e.end.Sub(e.start)
		}
		received := e.start.Add(time.Duration(l.rng.Int64N(int64(span) + 1)))
		st := statuses[l.rng.IntN(len(statuses))]
		if now.Sub(received) > 120*24*time.Hour {
			// Referrals older than four months have long since closed.
			st = []string{"ended", "ended", "ended", "declined", "withdrawn", "redirected"}[l.rng.IntN(6)]
		}
		if !referralStatusClosed(st) {
			if open[e.person] {
				st = "ended"
			}
			open[e.person] = true
		}
		var first any
		if st == "active" || st == "ended" || (st == "withdrawn" && l.rng.IntN(2) == 0) {
			first = received.Add(time.Duration(3+l.rng.IntN(60)) * 24 * time.Hour)
		}
		return []any{fmt.Sprintf("SCL-%08d", i), e.person, "staff", st, c.team, c.id, c.team, "given", received, first, received}
	}); err != nil {
		return err
	}
	l.res.Referrals += refs
	offers := n / 5
	if err := l.bulk(ctx, "offers", []string{"person_id", "recorded_by_user_id", "team_id", "at", "method", "response", "created_at"}, offers, func(i int) []any {
		e := eps[l.rng.IntN(n)]
		c := coords[e.c]
		at := e.start.Add(time.Duration(l.rng.Int64N(int64(now.Sub(e.start)) + 1)))
		return []any{e.person, c.id, c.team, at, "review", []string{"not_now", "declined", "interested"}[l.rng.IntN(3)], at}
	}); err != nil {
		return err
	}
	l.res.Offers += offers
	return nil
}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// bulk inserts count generated rows in multi-row statements, a few
// thousand rows per transaction.
func (l *loader) bulk(ctx context.Context, table string, cols []string, count int, row func(i int) []any) error {
	// A few hundred parameters per statement: SQLite's cost per statement
	// grows with the square of its parameter count.
	perStmt := max(1, 400/len(cols))
	for done := 0; done < count; {
		next := done
		err := l.DB.Write(ctx, func(tx *store.Tx) error {
			next = done // a retried transaction starts its batch again
			for range 2000 / perStmt {
				if next >= count {
					return nil
				}
				k := min(perStmt, count-next)
				var b strings.Builder
				a := store.NewArgs()
				fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
				for r := range k {
					if r > 0 {
						b.WriteString(", ")
					}
					b.WriteString(store.In(a, row(next+r)...))
				}
				if _, err := tx.ExecContext(ctx, b.String(), a.Values()...); err != nil {
					return fmt.Errorf("bulk insert into %s: %w", table, err)
				}
				next += k
			}
			return nil
		})
		if err != nil {
			return err
		}
		done = next
		if done%100000 < perStmt*5 {
			fmt.Fprintf(l.log, "demo: %s: %d of %d\n", table, done, count)
		}
	}
	return nil
}

func referralStatusClosed(st string) bool {
	return st == "ended" || st == "declined" || st == "withdrawn" || st == "redirected"
}
