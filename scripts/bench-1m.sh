#!/usr/bin/env bash
# Issue 3 load figures at scale, on MariaDB + Redis: seeds N users (default
# 1,000,000, 10 swipes each) into its own database once, starts one
# `swiper serve`, and drives it with wrk:
#   decks  GET /api/v1/recommendations?limit=20  (32 and 4 connections)
#   swipes POST /api/v1/swipes, 45 % like         (32 and 4 connections)
# then prints the server's RSS. Token holders are random per request.
# Usage: scripts/bench-1m.sh [--reseed]. Needs wrk (apt-get install wrk).
# Knobs: USERS, SWIPES, DUR (20s), PORT (18090), DB (swiper_1m), REDIS_DB (12).
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-1000000}
SWIPES=${SWIPES:-10}
DUR=${DUR:-20s}
PORT=${PORT:-18090}
DB=${DB:-swiper_1m}
REDIS_DB=${REDIS_DB:-12}
work=${WORK:-/tmp/swiper-bench-1m}
mkdir -p "$work"
go build -o "$work/swiper" ./cmd/swiper
export SWIPER_DATABASE_URL=mysql://swiper:swiper@127.0.0.1:3306/$DB
export SWIPER_REDIS_URL=redis://127.0.0.1:6379/$REDIS_DB
mysqlc() { mysql -h127.0.0.1 -uswiper -pswiper "$@" 2>/dev/null || mysql -uroot "$@"; }
if [ "${1:-}" = --reseed ] || [ ! -s "$work/tokens.txt" ] || ! mysqlc -e "SELECT 1 FROM $DB.users LIMIT 1" >/dev/null 2>&1; then
  mysqlc -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
  redis-cli -n "$REDIS_DB" FLUSHDB >/dev/null
  "$work/swiper" migrate >/dev/null 2>&1
  "$work/swiper" seed --users "$USERS" --swipes-per-user "$SWIPES" --random-seed 42 \
    --tokens 2000 --tokens-file "$work/tokens.txt" 2>/dev/null
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
# Likes stay counted and checked; the bench just must not run out of them.
SWIPER_FREE_DAILY_LIKES=100000 SWIPER_ADDR=127.0.0.1:$PORT SWIPER_MEDIA_DIR=$work/media "$work/swiper" serve --workers=1 >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do # the index loads 1M users first (about 10 s)
  grep -q "deck index loaded" "$work/server.log" 2>/dev/null && break
  sleep 0.5
done
grep -o '"msg":"deck index loaded".*' "$work/server.log" | head -1
export TOKENS=$work/tokens.txt USERS
run() { # name script conns
  echo "== $1: wrk -t2 -c$3 -d$DUR"
  wrk -t2 -c"$3" -d"$DUR" --latency -s "scripts/wrk/$2" "http://127.0.0.1:$PORT" \
    | grep -E 'Requests/sec|Latency |  50%|  90%|  99%|Non-2xx|Socket errors|requests in' || true
}
wrk -t2 -c32 -d5s -s scripts/wrk/deck.lua "http://127.0.0.1:$PORT" >/dev/null # warm the deck states
run decks deck.lua 32
run decks deck.lua 4
run swipes swipe.lua 32
run swipes swipe.lua 4
echo "server RSS: $(awk '/VmRSS/{print $2/1024 " MiB"}' /proc/$pid/status), peak $(awk '/VmHWM/{print $2/1024 " MiB"}' /proc/$pid/status)"
