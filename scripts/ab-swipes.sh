#!/usr/bin/env bash
# A/B of swipes at 1M users: two builds, alternating, on the database and
# tokens that scripts/bench-1m.sh prepared (run it once first).
# Usage: scripts/ab-swipes.sh OLD_BINARY NEW_BINARY [ROUNDS]
#   e.g. git worktree add /tmp/old d06ab28 && (cd /tmp/old && go build -o /tmp/swiper-old ./cmd/swiper)
#        go build -o /tmp/swiper-new ./cmd/swiper && scripts/ab-swipes.sh /tmp/swiper-old /tmp/swiper-new
set -uo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 rounds=${3:-3}
work=/tmp/swiper-bench-1m
export SWIPER_DATABASE_URL=mysql://swiper:swiper@127.0.0.1:3306/swiper_1m
export SWIPER_REDIS_URL=redis://127.0.0.1:6379/12
export TOKENS=$work/live-tokens.txt USERS=1000000
PORT=18090
mysqld_pid=$(pgrep -x mariadbd | head -1)
redis_pid=$(redis-cli info server | tr -d '\r' | awk -F: '/^process_id/{print $2}')
for round in $(seq 1 "$rounds"); do
for b in old new; do
  SWIPER_FREE_DAILY_LIKES=100000 SWIPER_ADDR=127.0.0.1:$PORT SWIPER_MEDIA_DIR=$work/media "${!b}" serve --workers=1 >/tmp/ab-$b.log 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q "deck index loaded" /tmp/ab-$b.log 2>/dev/null && break; sleep 0.5; done
  wrk -t2 -c32 -d3s -s scripts/wrk/deck.lua "http://127.0.0.1:$PORT" >/dev/null
  c0=$(for p in $pid $mysqld_pid $redis_pid; do cat /proc/$p/stat; done | awk -v hz=$(getconf CLK_TCK) '{s+=$14+$15} END {printf "%.2f", s/hz}')
  out=$(wrk -t2 -c4 -d15s --latency -s scripts/wrk/swipe.lua "http://127.0.0.1:$PORT")
  c1=$(for p in $pid $mysqld_pid $redis_pid; do cat /proc/$p/stat; done | awk -v hz=$(getconf CLK_TCK) '{s+=$14+$15} END {printf "%.2f", s/hz}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}'); n=$(echo "$out" | awk '/requests in/{print $1}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}'); non=$(echo "$out" | awk '/Non-2xx/{print $5}')
  echo "round $round $b: swipes c4 ${rps}/s p99 $p99 non2xx ${non:-0} cpu/req $(awk -v a=$c0 -v b=$c1 -v n=$n 'BEGIN{printf "%.0f µs", (b-a)/n*1e6}') load $(cut -d' ' -f1 /proc/loadavg)"
  kill $pid; wait $pid 2>/dev/null
done
done
