#!/usr/bin/env bash
# Prepares this machine for `make test` (and CI, which runs it): installs the
# Debian packages the suite needs when run as root, starts Redis and MariaDB
# when they are not running, and creates the MariaDB user the tests log in as
# (swiper/swiper). Each missing piece it cannot provide ends the run with one
# line that says what to do.
set -uo pipefail

die() { echo "make test: $*" >&2; exit 1; }

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light) # test/topology
command -v mariadbd >/dev/null || command -v mysqld >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v chromium >/dev/null || need+=(chromium) # web e2e
[ -e /usr/lib/galera/libgalera_smm.so ] || need+=(galera-4) # test/galera
command -v rsync >/dev/null || need+=(rsync)                # Galera's state transfer
command -v gcc >/dev/null || need+=(gcc)
command -v node >/dev/null || need+=(nodejs npm)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk) # Chinese text in e2e screenshots
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    die "missing packages: ${need[*]} — install them (sudo apt-get install -y ${need[*]}) and run make test again"
  fi
  echo "== installing ${need[*]}"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"; } >/tmp/swiper-apt.log 2>&1 ||
    die "apt-get install ${need[*]} failed; see /tmp/swiper-apt.log"
fi
export PATH=$PATH:/usr/sbin

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "== starting Redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 ||
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1
fi
if ! mysqladmin ping --silent >/dev/null 2>&1 && ! mysqladmin -h127.0.0.1 -uswiper -pswiper ping --silent >/dev/null 2>&1; then
  echo "== starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null
  start-stop-daemon --start --oknodo --background --exec "$(command -v mariadbd || command -v mysqld)" >/dev/null 2>&1
fi
for _ in $(seq 1 60); do
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 &&
    { mysqladmin ping --silent >/dev/null 2>&1 || mysqladmin -h127.0.0.1 -uswiper -pswiper ping --silent >/dev/null 2>&1; } && break
  sleep 1
done
redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG ||
  die "Redis is not reachable on 127.0.0.1:6379 and could not be started (apt-get install redis-server)"

# The tests log in as swiper/swiper (root may work only over the socket).
if ! mysql -h127.0.0.1 -uswiper -pswiper -e 'SELECT 1' >/dev/null 2>&1; then
  mysql -uroot -e "CREATE USER IF NOT EXISTS 'swiper'@'127.0.0.1' IDENTIFIED BY 'swiper';
    CREATE USER IF NOT EXISTS 'swiper'@'localhost' IDENTIFIED BY 'swiper';
    GRANT ALL PRIVILEGES ON *.* TO 'swiper'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON *.* TO 'swiper'@'localhost';
    CREATE DATABASE IF NOT EXISTS test;" >/dev/null 2>&1 ||
    die "MariaDB has no user swiper/swiper and root cannot create it; run as root: mysql -e \"CREATE USER 'swiper'@'127.0.0.1' IDENTIFIED BY 'swiper'; GRANT ALL ON *.* TO 'swiper'@'127.0.0.1'\""
fi
mysql -h127.0.0.1 -uswiper -pswiper -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null 2>&1 ||
  die "cannot log in to MariaDB on 127.0.0.1:3306 as swiper/swiper"
echo "== services ready: Redis 127.0.0.1:6379, MariaDB 127.0.0.1:3306 (swiper/swiper)"
