#!/usr/bin/env bash
# Makes sure what the tests and `make run` need is installed and running on this machine:
# MariaDB on 127.0.0.1:3306 (root, empty password), Redis on 127.0.0.1:6379, faketime, redis-server
# (also used for extra test instances), chromium. Installs Debian's packages when missing; starts servers that
# are down. Idempotent; safe to run as often as you like. Needs root (or passwordless sudo) only when
# something must be installed or started.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

apt_updated=0
need_pkg() { # need_pkg COMMAND PACKAGE...
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [ "$apt_updated" -eq 0 ]; then
    log "installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

wait_for() { # wait_for SECONDS COMMAND...
  local secs=$1; shift
  for _ in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

mysql_root_tcp() { mysql --protocol=TCP -h127.0.0.1 -P3306 -uroot --connect-timeout=2 -e 'SELECT 1'; }

ensure_mariadb() {
  need_pkg mariadbd mariadb-server mariadb-client
  if ! mysqladmin --protocol=TCP -h127.0.0.1 -P3306 -uroot --connect-timeout=2 ping >/dev/null 2>&1 &&
     ! mysqladmin -uroot --connect-timeout=2 ping >/dev/null 2>&1; then
    log "starting MariaDB"
    as_root mkdir -p /run/mysqld
    as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql \
      || as_root /usr/sbin/mariadbd --user=mysql --daemonize
    wait_for 60 mysqladmin -uroot ping || wait_for 30 mysqladmin --protocol=TCP -h127.0.0.1 -uroot ping \
      || { log "MariaDB did not start"; exit 1; }
  fi
  # A fresh Debian install lets root in through the Unix socket only; the tests use TCP with an
  # empty password, as the machine's default set-up does.
  if ! wait_for 10 mysql_root_tcp; then
    log "allowing root@127.0.0.1 with an empty password for the tests"
    as_root mysql -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'root'@'localhost';
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
FLUSH PRIVILEGES;
SQL
    wait_for 10 mysql_root_tcp || { log "cannot log in to MariaDB as root over TCP"; exit 1; }
  fi
}

ensure_redis() {
  need_pkg redis-server redis-server
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for 20 redis-cli -h 127.0.0.1 -p 6379 ping || { log "Redis did not start"; exit 1; }
  fi
}

# Test tools: faketime (clock-skew tests), systemd-analyze (checks the unit file), promtool (alerts), openssl (TLS tests),
# chromium (the status page's browser test drives Debian's build through playwright-core; it downloads no browser).
ensure_tools() {
  need_pkg openssl openssl
  need_pkg faketime faketime
  need_pkg systemd-analyze systemd
  need_pkg promtool prometheus   # checks the PromQL of deploy/prometheus/alerts.yaml
  need_pkg chromium chromium
}

case "${1:-all}" in
  mariadb) ensure_mariadb ;;
  redis) ensure_redis ;;
  tools) ensure_tools ;;
  all) ensure_mariadb; ensure_redis; ensure_tools ;;
  *) echo "usage: $0 [all|mariadb|redis|tools]" >&2; exit 2 ;;
esac
log "ready"
