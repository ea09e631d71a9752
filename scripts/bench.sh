#!/usr/bin/env bash
# Load figures for the user module, on the embedded path and on MariaDB + Redis:
#  - GET /api/v1/users/me with wrk against a real `swiper serve` (and its RSS);
#  - login (code verify) with `go test -bench BenchmarkLogin` over loopback HTTP
#    (every login needs a fresh code, which the benchmark reads from an SMS sink).
# Usage: scripts/bench.sh [embedded|production|both]. Needs wrk (apt-get install wrk).
# Traffic goes to 127.0.0.1 only and every run is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-both}
DUR=${DUR:-15s}
CONNS=${CONNS:-32}
PORT=${PORT:-18181}
MYSQL_URL=${SWIPER_TEST_MYSQL_URL:-mysql://swiper:swiper@127.0.0.1:3306/test}
REDIS_URL=${SWIPER_TEST_REDIS_URL:-redis://127.0.0.1:6379/14}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/swiper" ./cmd/swiper
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

run_mode() {
  local mode=$1
  local env=(SWIPER_ADDR=127.0.0.1:$PORT SWIPER_OTP_IP_LIMIT=0 SWIPER_MEDIA_DIR=$work/media)
  local bench_env=()
  if [ "$mode" = production ]; then
    local base=${MYSQL_URL%/*}
    mysql -h127.0.0.1 -uswiper -pswiper -e "DROP DATABASE IF EXISTS swiper_bench; CREATE DATABASE swiper_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" 2>/dev/null \
      || mysql -uroot -e "DROP DATABASE IF EXISTS swiper_bench; CREATE DATABASE swiper_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    redis-cli -n 13 FLUSHDB >/dev/null # the benchmark's own Redis database
    env+=(SWIPER_DATABASE_URL=$base/swiper_bench SWIPER_REDIS_URL=redis://127.0.0.1:6379/13)
    bench_env=(SWIPER_TEST_BACKEND=production SWIPER_TEST_MYSQL_URL=$MYSQL_URL SWIPER_TEST_REDIS_URL=$REDIS_URL)
  else
    env+=(SWIPER_DATABASE_URL=sqlite://$work/bench.db)
  fi
  env "${env[@]}" "$work/swiper" serve > "$work/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf -XPOST "127.0.0.1:$PORT/api/v1/verification-codes" -H 'Content-Type: application/json' -d '{"phone":"13800000001"}' >/dev/null
  local code="" token
  for _ in $(seq 1 100); do # the SMS task runs on the queue
    code=$(grep -oE '(code=|"code":")[0-9]{6}' "$work/server.log" | tail -1 | grep -oE '[0-9]{6}' || true)
    [ -n "$code" ] && break
    sleep 0.1
  done
  token=$(curl -sf -XPOST "127.0.0.1:$PORT/api/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"phone\":\"13800000001\",\"code\":\"$code\"}" | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["token"])')
  echo "== $mode: GET /api/v1/users/me, wrk -t2 -c$CONNS -d$DUR"
  wrk -t2 -c"$CONNS" -d"$DUR" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/v1/users/me" \
    | grep -E 'Requests/sec|Latency |  50%|  99%|Non-2xx|Socket errors' || true
  echo "server RSS after load: $(grep VmRSS /proc/$pid/status | awk '{print $2/1024 " MiB"}'), peak $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
  kill -TERM $pid; wait $pid 2>/dev/null || true
  echo "== $mode: login (code verify), go test -bench BenchmarkLogin (32 parallel clients over loopback HTTP)"
  env "${bench_env[@]}" go test -run '^$' -bench 'BenchmarkLogin$' -benchtime 20000x -cpu 2 ./internal/testkit/apptest/ | grep -E 'Benchmark|ok|FAIL'
}

if [ "$MODE" = embedded ] || [ "$MODE" = both ]; then run_mode embedded; fi
if [ "$MODE" = production ] || [ "$MODE" = both ]; then run_mode production; fi
