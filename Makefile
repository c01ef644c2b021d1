# Mutual: the two commands are `make run` and `make test`.
GO        ?= go
DATA      ?= data
BIN       := bin/mutual
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: run build test test-race test-short vet assets bench crash fuzz fuzz-api overload clean

## run: build Mutual, load demo data into data/mutual.db (first time only) and serve it at http://127.0.0.1:8080
run: build
	@mkdir -p $(DATA)
	@if [ ! -f $(DATA)/mutual.db ]; then MUTUAL_REQUIRE_MFA=false ./$(BIN) demo --database $(DATA)/mutual.db; \
	else echo "Using the existing $(DATA)/mutual.db (delete it to start again with fresh demo data)."; fi
	MUTUAL_REQUIRE_MFA=false ./$(BIN) serve --database $(DATA)/mutual.db --mail-dir $(DATA)/mail

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mutual

## test: the whole suite on SQLite and PostgreSQL, with real HTTP and headless Chromium; then, under the race detector, every test that does things at once
test:
	@scripts/test-deps.sh
	gofmt -l . | (! grep .) || (echo "gofmt would change the files above" && false)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...
	pattern="$$($(GO) run ./internal/testenv/racetests)" && packages="$$($(GO) run ./internal/testenv/racetests -packages)" && \
		$(GO) test -race -count=1 -timeout 30m -run "$$pattern" $$packages
	$(MAKE) crash CRASH_SECONDS=6

# The race detector multiplies the suite's time by five (53 minutes on two
# cores against 11), and a test that does one thing at a time gives it
# little to find, so make test runs it only on the tests that do things at
# once: racetests finds them (their own goroutines, or a helper's, such as
# testkit.Race and webtest.Parallel), so a new one is picked up by itself,
# and only the packages holding them are built with the detector.
## test-race: the whole suite under the race detector (about an hour on two cores)
test-race:
	@scripts/test-deps.sh
	$(GO) test -race -count=1 -timeout 90m ./...

## test-short: the suite without the race detector, for a quick loop
test-short:
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

## assets: rebuild the NHS.UK frontend CSS and JS from the pinned package-lock.json
assets:
	scripts/build-assets.sh

## crash: SIGKILL a server under concurrent writes, restart it and check every acknowledged write survived
CRASH_SECONDS ?= 30
crash:
	MUTUAL_CRASH_SECONDS=$(CRASH_SECONDS) $(GO) test -count=1 -run 'TestCrashSafety|TestGracefulShutdown' -v ./internal/testenv/crashtest/

## bench: load a generated data set and measure pages, audited API reads (beside the same reads from a build that does not audit them) and writes (16 and 50 writers; and 16 while 16 clients run slow searches) against a bare net/http handler, on SQLite and PostgreSQL; audit group commit against a transaction per row; the audit row of a list of 200 people against one naming nobody; one read by 16 readers audited and unaudited; 1,000 booking attempts for one group session of 12 places; allocation plans of 10,000 people for 1,000 workers; checking a post against 10,000 watched terms; a risk self-referral to its lead's alert; the support report over 1,000,000 contacts and 200,000 appointments (from its roll-up, and counted directly); a worker's people, diary, calendar feed and a person's contact history at 10,000 contacts and at MUTUAL_BENCH_VIEWS_CONTACTS (50,000 unless set; the bar is 1,000,000: each within 1.5 times its time at 10,000); a 500,000-row caseload file imported on each engine, with the largest heap seen
BENCH_SCALE ?= 1000000
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./internal/insight/stats/
	$(GO) test -run '^$$' -bench Append -benchtime 3000x ./internal/audit/
	$(GO) test -run '^$$' -bench RecordList -benchtime 500x ./internal/audit/
	$(GO) test -run '^$$' -bench AuditedRead -benchtime 20000x ./internal/audit/
	$(GO) test -run '^$$' -bench ThousandBookingAttempts -benchtime 1x ./internal/web/
	$(GO) test -run '^$$' -bench . -benchtime 3x -benchmem ./internal/matching/...
	$(GO) test -run '^$$' -bench . ./internal/watch/
	$(GO) test -run '^$$' -bench RiskSelfReferralToAlert -benchtime 200x ./internal/referral/
	$(GO) test -run '^$$' -bench Recovery -benchtime 10x ./internal/recovery/
	$(GO) test -run '^$$' -bench SupportReport -benchtime 3x -timeout 30m ./internal/insight/
	$(GO) test -run '^$$' -bench WorkerViews -benchtime 20x -timeout 30m ./internal/support/
	MUTUAL_BIG_IMPORT=1 $(GO) test -count=1 -run '^TestLargeImportStreams$$' -v -timeout 30m ./internal/caseload/
	$(GO) run ./internal/testenv/loadtest -scale $(BENCH_SCALE)

## overload: find a signed-in list page's capacity, then flood it (3x and 1,500 connections) with and without admission control
OVERLOAD_ENGINES ?= sqlite,postgres
overload:
	$(GO) run ./internal/testenv/loadtest -overload -compare -engines $(OVERLOAD_ENGINES)

## fuzz: feed the caseload CSV reader random files for FUZZ_TIME (go test runs only its seed corpus)
FUZZ_TIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzCaseloadCSV$$' -fuzztime $(FUZZ_TIME) ./internal/caseload/

## fuzz-api: send every API operation requests made from the OpenAPI document for FUZZ_TIME per engine (seed: FUZZ_SEED)
FUZZ_SEED ?= 20261102
fuzz-api:
	MUTUAL_API_FUZZ=$(FUZZ_TIME) MUTUAL_API_FUZZ_SEED=$(FUZZ_SEED) $(GO) test -count=1 -timeout 60m -run '^TestAPIFuzz$$' -v ./internal/web/

clean:
	rm -rf bin
