#!/bin/sh
# Beside every MySQL member. Ordinal 0 is the primary: nothing to do. Every other member, once
# its local server answers:
#   1. not cloned yet: CLONE INSTANCE from the primary (the clone plugin copies the primary's data,
#      GTID set included, replacing what the image's initialisation wrote; the server then stops
#      and the kubelet restarts the container on the cloned data);
#   2. cloned but not replicating: CHANGE REPLICATION SOURCE with GTID auto-positioning, START
#      REPLICA, then super_read_only persisted (SET PERSIST) so only replication writes;
#   3. replicating: nothing (restarts and re-runs change nothing).
#
# Environment: POD_NAME, PRIMARY_HOST, MYSQL_ROOT_PASSWORD_FILE (the credentials Secret's file),
# CHECK_INTERVAL (seconds, default 30), ONCE (set: one pass, for tests). The password goes into
# the client option file and the SQL on stdin, never into the environment or onto a command line.
set -eu

ordinal="${POD_NAME##*-}"
interval="${CHECK_INTERVAL:-30}"
client_cnf=/tmp/replica-client.cnf
umask 077
root_password="$(cat "${MYSQL_ROOT_PASSWORD_FILE}")"
# The credential reaches the client through an option file in the /tmp emptyDir, never argv.
printf '[client]\nuser=root\npassword="%s"\nhost=127.0.0.1\n' "${root_password}" > "${client_cnf}"
sql() { mysql --defaults-extra-file="${client_cnf}" --batch --skip-column-names "$@"; }

pass() {
  if [ "${ordinal}" = "0" ]; then
    return 0
  fi
  if ! mysqladmin --defaults-extra-file="${client_cnf}" ping >/dev/null 2>&1; then
    echo "replica: local server not up yet"
    return 0
  fi
  configured="$(sql -e "SELECT COUNT(*) FROM performance_schema.replication_connection_configuration" 2>/dev/null || echo 0)"
  if [ "${configured}" != "0" ]; then
    return 0
  fi
  cloned="$(sql -e "SELECT STATE FROM performance_schema.clone_status" 2>/dev/null || true)"
  if [ "${cloned}" != "Completed" ]; then
    echo "replica: cloning ${PRIMARY_HOST}"
    sql <<SQL || true
SET GLOBAL clone_valid_donor_list = '${PRIMARY_HOST}:3306';
CLONE INSTANCE FROM 'root'@'${PRIMARY_HOST}':3306 IDENTIFIED BY '${root_password}';
SQL
    return 0
  fi
  echo "replica: replicating from ${PRIMARY_HOST} (GTID auto-position)"
  sql <<SQL
CHANGE REPLICATION SOURCE TO SOURCE_HOST = '${PRIMARY_HOST}', SOURCE_PORT = 3306, SOURCE_USER = 'root',
  SOURCE_PASSWORD = '${root_password}', SOURCE_AUTO_POSITION = 1, GET_SOURCE_PUBLIC_KEY = 1;
START REPLICA;
SET PERSIST super_read_only = ON;
SQL
}

while true; do
  pass
  if [ -n "${ONCE:-}" ]; then exit 0; fi
  sleep "${interval}"
done
