#!/usr/bin/env bash
# A private Redis Cluster on loopback for `make test-cluster`.
#
#   scripts/redis-cluster.sh start DIR   6 redis-server processes (3 masters, 3 replicas)
#                                        in cluster mode on free loopback ports, files in
#                                        DIR, no persistence, joined by redis-cli --cluster
#                                        create; waits until every node sees the cluster
#                                        ok with all 16384 slots and every replica in sync,
#                                        then prints its redis+cluster:// URL.
#   scripts/redis-cluster.sh stop DIR    stops the nodes started in DIR (their pid files;
#                                        nothing else) and removes DIR.
set -euo pipefail

die() { echo "redis-cluster: $*" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
[ -n "$dir" ] || die "usage: $0 start|stop DIR"
marker="$dir/.swiper-redis-cluster"

# in_use PORT: something accepts connections on 127.0.0.1:PORT.
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop() {
  [ -d "$dir" ] || return 0
  [ -e "$marker" ] || die "$dir was not made by $0; not touching it"
  shopt -s nullglob
  for f in "$dir"/*.pid; do
    pid=$(cat "$f" 2>/dev/null) || continue
    # Only a redis-server we started: the pid must still be one.
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q redis-server; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
}

start() {
  command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
  command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
  mkdir -p "$dir"
  touch "$marker"
  # 12 distinct free ports: a client port and a cluster bus port per node.
  local ports=() p
  while [ ${#ports[@]} -lt 12 ]; do
    p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768-)
    [[ " ${ports[*]} " == *" $p "* ]] && continue
    in_use "$p" && continue
    ports+=("$p")
  done
  local addrs=()
  for i in 0 1 2 3 4 5; do
    local port=${ports[$((2 * i))]} bus=${ports[$((2 * i + 1))]}
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-port "$bus" \
      --cluster-config-file "$dir/nodes-$port.conf" --cluster-node-timeout 15000 \
      --save "" --appendonly no --daemonize yes --pidfile "$dir/redis-$port.pid" \
      --dir "$dir" --logfile "$dir/redis-$port.log" ||
      die "redis-server on port $port did not start; see $dir/redis-$port.log"
    addrs+=("127.0.0.1:$port")
  done
  for a in "${addrs[@]}"; do
    for _ in $(seq 100); do
      redis-cli -h 127.0.0.1 -p "${a#*:}" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p "${a#*:}" ping >/dev/null 2>&1 || die "node $a does not answer; see $dir/redis-${a#*:}.log"
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
    die "redis-cli --cluster create failed; see $dir/create.log"
  local ok=""
  for _ in $(seq 600); do
    ok=yes
    for a in "${addrs[@]}"; do
      local info repl
      info=$(redis-cli -h 127.0.0.1 -p "${a#*:}" cluster info 2>/dev/null | tr -d '\r')
      repl=$(redis-cli -h 127.0.0.1 -p "${a#*:}" info replication 2>/dev/null | tr -d '\r')
      if ! grep -qx 'cluster_state:ok' <<<"$info" || ! grep -qx 'cluster_slots_ok:16384' <<<"$info" ||
        ! grep -qx 'cluster_known_nodes:6' <<<"$info"; then
        ok=""
      fi
      if grep -qx 'role:slave' <<<"$repl" && ! grep -qx 'master_link_status:up' <<<"$repl"; then
        ok=""
      fi
    done
    [ -n "$ok" ] && break
    sleep 0.1
  done
  [ -n "$ok" ] || die "the cluster in $dir did not become healthy within 60 s"
  local IFS=,
  echo "redis+cluster://${addrs[*]}" | tee "$dir/url"
}

case "$cmd" in
start) start ;;
stop) stop ;;
*) die "usage: $0 start|stop DIR" ;;
esac
