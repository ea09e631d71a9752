# Swiper — the commands. `make test` is the one test command (CI runs it).
SHELL := /bin/bash
GO ?= go
export CGO_ENABLED ?= 1

# The production path's services (see README "Tests").
SWIPER_TEST_MYSQL_URL ?= mysql://swiper:swiper@127.0.0.1:3306/test
SWIPER_TEST_REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: run build test services lint test-galera test-embedded test-production test-cluster test-web test-topology bench bench-1m bench-topology bench-chat fuzz

run:
	$(GO) run ./cmd/swiper serve

build:
	$(GO) build -o bin/swiper ./cmd/swiper

## test: everything CI checks — lint, the Go suite on both paths, the web client.
## It first prepares the machine (scripts/test-services.sh): packages, Redis,
## MariaDB and its test user; whatever it cannot provide stops it with one line.
test: services
	$(MAKE) lint test-embedded test-production test-cluster test-galera test-web test-topology

services:
	@bash scripts/test-services.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run 'go mod tidy'"; exit 1; }

## The whole Go suite on SQLite + in-process adapters (Redis adapter
## contract tests still run against the real Redis).
test-embedded:
	SWIPER_TEST_REDIS_URL=$(SWIPER_TEST_REDIS_URL) SWIPER_TEST_MYSQL_URL=$(SWIPER_TEST_MYSQL_URL) \
		$(GO) test -race -count=1 -timeout 20m ./...

## The whole Go suite again on MariaDB + Redis + asynq.
test-production:
	SWIPER_TEST_BACKEND=production SWIPER_TEST_REDIS_URL=$(SWIPER_TEST_REDIS_URL) SWIPER_TEST_MYSQL_URL=$(SWIPER_TEST_MYSQL_URL) \
		$(GO) test -race -count=1 -timeout 20m ./...

## The Redis-facing packages and the black-box HTTP suite (production path)
## on a private Redis Cluster: 3 masters + 3 replicas on loopback
## (scripts/redis-cluster.sh), stopped again even when a test fails.
CLUSTER_PKGS := ./internal/adapters/kv/... ./internal/adapters/otp/... ./internal/adapters/deckstate/... ./internal/adapters/cache/... ./internal/adapters/tasks/... ./internal/adapters/rank/... ./internal/domain/events/... ./internal/testkit/apptest/...
test-cluster:
	@dir=$$(mktemp -d /tmp/swiper-redis-cluster.XXXXXX) && \
	trap 'bash scripts/redis-cluster.sh stop "'"$$dir"'"' EXIT && \
	url=$$(bash scripts/redis-cluster.sh start "$$dir") && \
	echo "== Redis Cluster $$url" && \
	SWIPER_TEST_BACKEND=production SWIPER_TEST_REDIS_URL=$$url SWIPER_TEST_MYSQL_URL=$(SWIPER_TEST_MYSQL_URL) \
		$(GO) test -race -count=1 -timeout 20m $(CLUSTER_PKGS)

## The swipe path on a private 3-node MariaDB Galera cluster (test/galera),
## writes sent to different nodes: crossing likes, like and rewind quotas.
test-galera:
	SWIPER_GALERA=1 SWIPER_TEST_REDIS_URL=$(SWIPER_TEST_REDIS_URL) $(GO) test -race -count=1 -timeout 10m -v ./test/galera/

## The production topology on loopback (test/topology): Debian's nginx from
## deploy/nginx.conf → two `swiper serve --workers=0` → private MariaDB and
## Redis (deploy/redis.conf) + `swiper worker`: user journey, per-IP limit,
## Redis/MariaDB outages, SIGTERM drain, AOF durability, periodic tasks,
## invariant checker. Starts and stops only its own processes.
test-topology:
	SWIPER_TOPOLOGY=1 $(GO) test -race -count=1 -timeout 10m -v ./test/topology/

## Load test through nginx + 2 replicas on 1M seeded users (not in `test`);
## knobs: SWIPER_BENCH_USERS, _SWIPES, _SECONDS, _CONNS, _TOKENS, _OUT.
bench-topology:
	SWIPER_TOPOLOGY=1 SWIPER_BENCH=1 $(GO) test -count=1 -timeout 60m -v -run '^TestBench$$' ./test/topology/

## Chat load test (issue 12) on the same topology: 10,000 idle event sockets
## on one replica, messages POSTed on one replica and received on the
## other's sockets (max rate, delivery p99 at 1,000/s, lost/duplicated), a
## conversation page of 1 vs 100,000 messages; docs/performance.md.
## Knobs: SWIPER_BENCH_CHAT_SOCKETS, _PAIRS, _BURST, _CONNS, _RATE,
## _PACED_SECONDS, _LONG, _PAGE_SECONDS, _PAGE_CLIENT (raw: a wrk-like
## client, the default; http: Go's http.Client); SWIPER_BENCH_OUT.
bench-chat:
	SWIPER_TOPOLOGY=1 SWIPER_BENCH_CHAT=1 $(GO) test -count=1 -timeout 30m -v -run '^TestBenchChat$$' ./test/topology/

## The web client: unit tests, committed build matches the sources, e2e in Chromium.
test-web: build
	cd web && npm ci --no-audit --no-fund && npm test && npm run check:dist
	cd web && SWIPER_BIN=$(CURDIR)/bin/swiper npm run e2e

fuzz:
	$(GO) test ./internal/domain/phone -run '^$$' -fuzz FuzzParse -fuzztime 30s
	$(GO) test ./internal/domain/input -run '^$$' -fuzz FuzzObject -fuzztime 30s
	$(GO) test ./internal/domain/media -run '^$$' -fuzz FuzzProcess -fuzztime 30s

bench:
	bash scripts/bench.sh

## Load figures at scale: wrk against one replica on 1M seeded users
## (seeded once into MariaDB database swiper_1m; see the script's knobs).
bench-1m:
	bash scripts/bench-1m.sh
