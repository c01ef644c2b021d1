#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests.
# Uses the machine's cluster if there is one (pg_ctlcluster), otherwise
# creates a scratch cluster with trust authentication (as the postgres user).
# Prints exactly what is missing when it cannot.
set -uo pipefail

answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if answers; then
  echo "PostgreSQL answers on 127.0.0.1:5432"
  exit 0
fi

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for v in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || pg_ctlcluster "$v" main start 2>/dev/null || true
  done
  for _ in $(seq 1 30); do answers && { echo "started the machine's PostgreSQL cluster"; exit 0; }; sleep 1; done
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  echo "PostgreSQL is not installed. Install it (Debian: apt-get install -y postgresql) or set MUTUAL_TEST_POSTGRES to a server URL." >&2
  exit 1
fi
dir=${MUTUAL_PG_SCRATCH:-/tmp/mutual-pg}
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
if [ ! -f "$dir/PG_VERSION" ]; then
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  run_as_pg "$bin/initdb -D $dir -U postgres --auth=trust >/dev/null" || { echo "initdb failed in $dir" >&2; exit 1; }
fi
sockdir=$dir/sock
mkdir -p "$sockdir"; [ "$(id -u)" = 0 ] && chown postgres "$sockdir"
run_as_pg "$bin/pg_ctl -D $dir -l $dir/server.log -o '-p 5432 -k $sockdir -c listen_addresses=127.0.0.1' -w start >/dev/null" || {
  echo "could not start PostgreSQL; see $dir/server.log" >&2; exit 1; }
for _ in $(seq 1 30); do
  if answers; then
    psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'test'" postgres | grep -q 1 \
      || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" postgres >/dev/null
    echo "started a scratch PostgreSQL in $dir"
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL did not start; see $dir/server.log" >&2
exit 1
