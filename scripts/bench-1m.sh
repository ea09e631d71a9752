#!/usr/bin/env bash
# Issue 3 load figures at scale, on MariaDB + Redis: seeds N users (default
# 1,000,000, 10 swipes each) into its own database once, starts one
# `swiper serve`, and drives it with wrk:
#   decks  GET /api/v1/recommendations?limit=20  (32 and 4 connections)
#   swipes POST /api/v1/swipes, 45 % like         (32 and 4 connections)
# then prints the server's RSS. Token holders are random per request.
# Usage: scripts/bench-1m.sh [--reseed]. Needs wrk (apt-get install wrk).
# Knobs: USERS, SWIPES, DUR (20s), PORT (18090), DB (swiper_1m), REDIS_DB (12).
# SWIPER_BENCH_BLOCKS=N (0): the blocks table holds N blocks by each token
# user, to pseudo-random other users (set again on every run; cached deck
# states are dropped when it changes). SWIPER_BENCH_DELETE=K (0): after the
# swipes, K token users each get 10,000 swipes and 1,000 messages (10
# matches × 100) and delete their accounts (DELETE /api/v1/users/me) one
# after the other while wrk swipes at 4 connections (DEL_DUR, 12s), against
# the same wrk run without deletions; deleted token users stay out of later
# runs. LOGIN_PAIRS=0 skips the logins. Each wrk run prints the CPU time of
# the server + mariadbd + redis-server per request (from /proc; mariadbd
# and redis-server are shared with whatever else runs on the machine).
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
# SWIPER_BIN: a prebuilt binary to measure instead of this tree (an A/B of
# two builds on the same data: run the script once per binary).
if [ -n "${SWIPER_BIN:-}" ]; then cp "$SWIPER_BIN" "$work/swiper"; else go build -o "$work/swiper" ./cmd/swiper; fi
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
# Token line i is seeded user i (a fresh database starts ids at 1).
ntok=$(wc -l <"$work/tokens.txt")
BLOCKS=${SWIPER_BENCH_BLOCKS:-0}
want=$(mysqlc -N -e "SELECT COUNT(*) FROM $DB.users u JOIN $DB.seq_1_to_$((BLOCKS > 0 ? BLOCKS : 1)) s WHERE u.id <= $ntok AND u.deleted_at IS NULL AND $BLOCKS > 0")
have=$(mysqlc -N -e "SELECT COUNT(*) FROM $DB.blocks")
if [ "$have" != "$want" ]; then
  mysqlc "$DB" -e "DELETE FROM blocks"
  if [ "$BLOCKS" -gt 0 ]; then # the first N distinct targets of N + 20 candidates
    mysqlc "$DB" -e "INSERT INTO blocks (blocker_id, blocked_id, created_at)
      SELECT id, b, NOW(6) FROM (SELECT id, b, ROW_NUMBER() OVER (PARTITION BY id ORDER BY k) AS n
        FROM (SELECT u.id, 1 + CRC32(CONCAT(u.id, ':', s.seq)) MOD $USERS AS b, MIN(s.seq) AS k
          FROM users u JOIN seq_1_to_$((BLOCKS + 20)) s WHERE u.id <= $ntok AND u.deleted_at IS NULL
          GROUP BY u.id, b HAVING b <> u.id) c) r WHERE n <= $BLOCKS"
  fi
  redis-cli -n "$REDIS_DB" --scan --pattern '*dk:{u:*' | xargs -r -n 500 redis-cli -n "$REDIS_DB" DEL >/dev/null
fi
echo "blocks: $(mysqlc -N -e "SELECT COUNT(*), COUNT(DISTINCT blocker_id) FROM $DB.blocks" | awk '{print $1 " by " $2 " users"}')"
# The tokens of token users whose accounts were not deleted (SWIPER_BENCH_DELETE).
mysqlc -N -e "SELECT id FROM $DB.users WHERE id <= $ntok AND deleted_at IS NULL" \
  | awk 'NR == FNR { live[$1] = 1; next } live[FNR]' - "$work/tokens.txt" >"$work/live-tokens.txt"
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
export TOKENS=$work/live-tokens.txt USERS
mysqld_pid=$(cat "$(mysqlc -N -e 'SELECT @@pid_file')" 2>/dev/null || true)
redis_pid=$(redis-cli info server | tr -d '\r' | awk -F: '/^process_id/{print $2}')
cpu() { # CPU-seconds used so far by the server, mariadbd and redis-server
  for p in $pid $mysqld_pid $redis_pid; do cat "/proc/$p/stat" 2>/dev/null || true; done \
    | awk -v hz="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { printf "%.2f", s / hz }'
}
run() { # name script conns [duration]
  local d=${4:-$DUR} c0 out
  echo "== $1: wrk -t2 -c$3 -d$d (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  c0=$(cpu)
  out=$(wrk -t2 -c"$3" -d"$d" --latency -s "scripts/wrk/$2" "http://127.0.0.1:$PORT")
  grep -E 'Requests/sec|Latency |  50%|  90%|  99%|Non-2xx|Socket errors|requests in' <<<"$out" || true
  awk -v c="$(awk -v a="$c0" -v b="$(cpu)" 'BEGIN { print b - a }')" \
    '/requests in/ { printf "  CPU %.0f µs per request (server + mariadbd + redis-server, %.1f s)\n", c * 1e6 / $1, c }' <<<"$out"
}
wrk -t2 -c32 -d5s -s scripts/wrk/deck.lua "http://127.0.0.1:$PORT" >/dev/null # warm the deck states
run decks deck.lua 32
run decks deck.lua 4
run swipes swipe.lua 32
run swipes swipe.lua 4
run "GET /users/me" me.lua 32
run "GET /users/me" me.lua 4
echo "server RSS: $(awk '/VmRSS/{print $2/1024 " MiB"}' /proc/$pid/status), peak $(awk '/VmHWM/{print $2/1024 " MiB"}' /proc/$pid/status)"

# --- account deletion under a swipe load (SWIPER_BENCH_DELETE=K) -------------
DELETE=${SWIPER_BENCH_DELETE:-0}
DEL_DUR=${DEL_DUR:-12s}
if [ "$DELETE" -gt 0 ]; then
  # The last K live token users: 10,000 dislikes each (distinct targets:
  # 104729 is prime to USERS), 10 matches with 100 messages each.
  victims=$(mysqlc -N -e "SELECT id FROM $DB.users WHERE id <= $ntok AND deleted_at IS NULL ORDER BY id DESC LIMIT $DELETE")
  for v in $victims; do
    mysqlc "$DB" -e "
      INSERT IGNORE INTO swipes (swiper_id, swiped_id, action, created_at)
        SELECT $v, t, 3, NOW(6) FROM (SELECT 1 + ($v * 7919 + seq * 104729) MOD $USERS AS t FROM seq_1_to_10000) x WHERE t <> $v;
      INSERT IGNORE INTO matches (user_a, user_b, matched_at)
        SELECT LEAST($v, p), GREATEST($v, p), NOW(6) FROM (SELECT 1 + ($v * 31 + seq * 99991) MOD $USERS AS p FROM seq_1_to_10) x WHERE p <> $v;
      INSERT IGNORE INTO messages (user_a, user_b, sender_id, client_id, text, sent_at)
        SELECT LEAST($v, p), GREATEST($v, p), IF(m.seq % 2 = 0, $v, p), CONCAT('bench-', m.seq), 'a message of the deletion bench', NOW(6)
        FROM (SELECT 1 + ($v * 31 + seq * 99991) MOD $USERS AS p FROM seq_1_to_10) x JOIN seq_1_to_100 AS m WHERE p <> $v"
  done
  mysqlc -N "$DB" -e "SELECT COUNT(*) FROM swipes WHERE swiper_id IN ($(tr '\n' , <<<"$victims" | sed 's/,$//'))
    UNION ALL SELECT COUNT(*) FROM messages WHERE user_a IN ($(tr '\n' , <<<"$victims" | sed 's/,$//')) OR user_b IN ($(tr '\n' , <<<"$victims" | sed 's/,$//'))" \
    | paste -sd' ' | awk -v k="$DELETE" '{ printf "deletion: %d users with %d swipes and %d messages in all\n", k, $1, $2 }'
  awk 'NR == FNR { v[$1] = 1; next } !v[FNR]' <(tr ' ' '\n' <<<"$victims") "$work/tokens.txt" \
    | awk 'NR == FNR { live[$0] = 1; next } live[$0]' - "$work/live-tokens.txt" >"$work/swipe-tokens.txt"
  TOKENS=$work/swipe-tokens.txt run "swipes, no deletion" swipe.lua 4 "$DEL_DUR"
  (
    sleep 1
    for v in $victims; do
      tok=$(sed -n "${v}p" "$work/tokens.txt")
      curl -s -o /dev/null -w "  DELETE /api/v1/users/me of user $v: HTTP %{http_code} in %{time_total} s\n" \
        -X DELETE -H "Authorization: Bearer $tok" "http://127.0.0.1:$PORT/api/v1/users/me"
    done
  ) &
  dpid=$!
  TOKENS=$work/swipe-tokens.txt run "swipes while $DELETE accounts are deleted one after the other (from 1 s on)" swipe.lua 4 "$DEL_DUR"
  wait "$dpid"
fi

# --- login: POST /api/v1/sessions (code verify) of seeded users ---------------
# Each {phone, code} pair is used once. The codes are requested like any
# client does and read from the console SMS provider's log lines, the only
# place they exist in clear; the per-phone limits stay on (one code per
# phone per minute, 10 a day: phones are taken from a random range), only
# the per-IP limit is off (SWIPER_OTP_IP_LIMIT=0, as every client here is
# 127.0.0.1). A log line masks the phone to "+86170******NN", so codes are
# requested 100 phones (distinct last two digits) at a time, the next batch
# once every code of this one was read. The server runs no task workers:
# LOGIN_WORKERS `swiper worker` processes deliver the codes, as an idle
# asynq worker only looks for tasks about once a second. Other processes
# working on the same Redis database would take some of the codes: run
# this alone on REDIS_DB. Knobs: LOGIN_PAIRS (40000 per run), LOGIN_DUR (8s),
# LOGIN_WORKERS (10).
LOGIN_PAIRS=${LOGIN_PAIRS:-40000}
LOGIN_DUR=${LOGIN_DUR:-8s}
[ "$LOGIN_PAIRS" -gt 0 ] || exit 0
kill "$pid" 2>/dev/null || true
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
SWIPER_OTP_IP_LIMIT=0 SWIPER_ADDR=127.0.0.1:$PORT SWIPER_MEDIA_DIR=$work/media "$work/swiper" serve --workers=0 >"$work/server.log" 2>&1 &
pid=$!
wpids=()
for i in $(seq 1 "${LOGIN_WORKERS:-10}"); do
  "$work/swiper" worker --concurrency=4 >"$work/worker-$i.log" 2>&1 &
  wpids+=($!)
done
trap 'kill $pid "${wpids[@]}" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  grep -q "deck index loaded" "$work/server.log" 2>/dev/null && break
  sleep 0.5
done
cat >"$work/login-codes.py" <<'PY'
# login-codes.py PORT FIRST N OUT LOG...: codes of seeded users FIRST..FIRST+N-1.
import http.client, json, queue, sys, threading, time
port, first, n, out, logs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
MSG = b"sms (console provider): verification code"
jobs, answers = queue.Queue(), queue.Queue()
def requester():
    c = http.client.HTTPConnection("127.0.0.1", port)
    while True:
        ph = jobs.get()
        c.request("POST", "/api/v1/verification-codes", json.dumps({"phone": ph}), {"Content-Type": "application/json"})
        r = c.getresponse()
        answers.put((ph, r.status, r.read()))
for _ in range(24):
    threading.Thread(target=requester, daemon=True).start()
tails = []
for name in logs:
    f = open(name, "rb"); f.seek(0, 2); tails.append([f, b""])
start = time.time()
with open(out, "w") as w:
    for b0 in range(first, first + n, 100):
        phones = {"%02d" % (i % 100): "+8617%09d" % i for i in range(b0, min(b0 + 100, first + n))}
        for ph in phones.values():
            jobs.put(ph)
        for _ in phones:
            ph, status, body = answers.get()
            if status != 200:
                sys.exit("code request: HTTP %d %s" % (status, body[:200]))
        codes, deadline = {}, time.time() + 30
        while len(codes) < len(phones):
            lines = []
            for t in tails:
                t[1] += t[0].read()
                *got, t[1] = t[1].split(b"\n")
                lines += got
            if not lines:
                if time.time() > deadline:
                    sys.exit("%d codes not found in the logs" % (len(phones) - len(codes)))
                time.sleep(0.002)
            for ln in lines:
                if MSG in ln:
                    m = json.loads(ln)
                    tail = m["phone"][-2:]
                    if tail not in phones or tail in codes:
                        sys.exit("code line of an unexpected phone %s" % m["phone"])
                    codes[tail] = m["code"]
        w.writelines("%s %s\n" % (phones[t], codes[t]) for t in sorted(phones))
print("login: %d codes requested and read in %.0f s" % (n, time.time() - start))
PY
codes() { # first n out
  python3 "$work/login-codes.py" "$PORT" "$1" "$2" "$3" "$work"/worker-*.log "$work/server.log"
}
first=$(( (RANDOM * 32768 + RANDOM) % (USERS - 2 * LOGIN_PAIRS) + 1 ))
export THREADS=2 PAIRS=$work/pairs.txt
login() { # name conns
  local c0 out
  echo "== $1: wrk -t2 -c$2 -d$LOGIN_DUR"
  c0=$(cpu)
  out=$(wrk -t2 -c"$2" -d"$LOGIN_DUR" --latency -s scripts/wrk/login.lua "http://127.0.0.1:$PORT")
  grep -E 'Requests/sec|Latency |  50%|  90%|  99%|Non-2xx|Socket errors|requests in' <<<"$out" || true
  awk -v c="$(awk -v a="$c0" -v b="$(cpu)" 'BEGIN { print b - a }')" \
    '/requests in/ { printf "  CPU %.0f µs per request (server + mariadbd + redis-server, %.1f s)\n", c * 1e6 / $1, c }' <<<"$out"
}
# First login of each phone on this replica (it has to find the user).
codes "$first" "$LOGIN_PAIRS" "$PAIRS"
login "login (users new to this replica)" 32
t0=$(date +%s)
codes "$((first + LOGIN_PAIRS))" "$LOGIN_PAIRS" "$PAIRS"
login "login (users new to this replica)" 4
# The same phones again, a minute after their first code: this replica
# remembers their user ids.
sleep $(( t0 + 61 - $(date +%s) > 0 ? t0 + 61 - $(date +%s) : 0 ))
codes "$first" "$LOGIN_PAIRS" "$PAIRS"
login "login (users this replica knows)" 32
echo "server RSS: $(awk '/VmRSS/{print $2/1024 " MiB"}' /proc/$pid/status)"
