#!/bin/sh
# The restore Job's command (a Job created from the suspended "<backup>-restore" CronJob): restores
# a dump written by backup.sh into database $DB_NAME of the $ENGINE server at $DB_HOST:$DB_PORT.
# The dump is $DUMP (a file name in $BACKUP_DIR, or a path), or, when DUMP is empty, the newest
# "$DB_NAME-*.<ext>" in $BACKUP_DIR. DUMP=list prints the dumps there are and changes nothing.
#
# It fails loudly (non-zero exit, a message naming the dump) and before touching the database when
# the dump is missing or not a complete dump of its engine. The restore replaces what the dump
# holds: postgresql drops and recreates the dumped objects in one transaction (all or nothing),
# mysql runs the dump's DROP/CREATE TABLE statements, mongodb drops each restored collection first,
# redis replaces the whole keyspace: a server of the image's own, local to the pod (127.0.0.1:
# $REDIS_SCRATCH_PORT, no persistence), loads the RDB, the target is flushed and every key is
# MIGRATEd to it (with its TTL) by a script running in that local server; in sentinel mode
# (DB_SENTINEL_MASTER set) the target is the primary the sentinels at DB_HOST:DB_PORT name (the
# replicas follow it). sqlite: the copy is written over $DB_FILE with SQLite's backup API
# (sqlite3 .restore) while the server is stopped (its Deployment scaled to 0: see the README).
#
# Environment: as backup.sh (ENGINE, DB_HOST, DB_PORT, DB_NAME, BACKUP_DIR, SCRATCH_DIR,
# DB_SENTINEL_MASTER, DB_FILE, and DB_USER_FILE and DB_PASSWORD_FILE: files of the database
# Secret), plus DUMP (optional) and REDIS_SCRATCH_PORT (redis, default 6390).
set -eu
umask 077
if [ "${ENGINE}" != sqlite ]; then
  DB_USER="$(cat "${DB_USER_FILE}")"
  DB_PASSWORD="$(cat "${DB_PASSWORD_FILE}")"
fi

case "${ENGINE}" in
  postgresql) ext=dump ;;
  mysql) ext=sql ;;
  mongodb) ext=archive.gz ;;
  redis) ext=rdb ;;
  sqlite) ext=db ;;
  *) echo "restore: unknown engine ${ENGINE}" >&2; exit 2 ;;
esac

available() {
  echo "restore: dumps in ${BACKUP_DIR}:" >&2
  found=0
  for f in "${BACKUP_DIR}/${DB_NAME}"-*."${ext}"; do
    if [ -e "${f}" ]; then echo "  ${f##*/}" >&2; found=1; fi
  done
  if [ "${found}" -eq 0 ]; then echo "  (none)" >&2; fi
}

dump="${DUMP:-}"
case "${dump}" in
  list)
    available 2>&1
    exit 0 ;;
  "")
    for f in "${BACKUP_DIR}/${DB_NAME}"-*."${ext}"; do
      if [ -e "${f}" ]; then dump="${f}"; fi
    done
    if [ -z "${dump}" ]; then
      echo "restore: FAILED: no dump of ${DB_NAME} in ${BACKUP_DIR}" >&2
      exit 1
    fi ;;
  /*) ;;
  *) dump="${BACKUP_DIR}/${dump}" ;;
esac
if [ ! -f "${dump}" ]; then
  echo "restore: FAILED: dump ${dump} does not exist" >&2
  available
  exit 1
fi

# Check the dump before the database is touched (postgresql: its table of contents; a dump cut
# short fails inside pg_restore's single transaction, which then changes nothing).
case "${ENGINE}" in
  postgresql)
    if ! pg_restore --list "${dump}" > /dev/null; then
      echo "restore: FAILED: ${dump} is not a readable pg_dump archive; the database was not changed" >&2
      exit 1
    fi ;;
  mysql)
    if ! tail -n 1 "${dump}" | grep -q '^-- Dump completed'; then
      echo "restore: FAILED: ${dump} is not a complete mysqldump (no \"-- Dump completed\" trailer); the database was not changed" >&2
      exit 1
    fi ;;
  mongodb)
    if ! gzip -t "${dump}"; then
      echo "restore: FAILED: ${dump} is not an intact gzip archive; the database was not changed" >&2
      exit 1
    fi ;;
  redis)
    if ! redis-check-rdb "${dump}" > "${SCRATCH_DIR}/check-rdb.log" 2>&1; then
      cat "${SCRATCH_DIR}/check-rdb.log" >&2
      echo "restore: FAILED: ${dump} is not a valid RDB file; the database was not changed" >&2
      exit 1
    fi ;;
  sqlite)
    check="$(sqlite3 "${dump}" "PRAGMA integrity_check;" 2>&1)" || true
    if [ "${check}" != ok ]; then
      echo "restore: FAILED: ${dump} is not an intact SQLite database (${check}); the database was not changed" >&2
      exit 1
    fi ;;
esac

# Redis sentinel mode: the primary the sentinels name now (redis-primary.sh, beside this script).
# shellcheck source-path=SCRIPTDIR source=redis-primary.sh
. "$(dirname "$0")/redis-primary.sh"
resolve_primary restore
if [ "${ENGINE}" = sqlite ]; then
  echo "restore: ${dump} -> sqlite ${DB_FILE}"
else
  echo "restore: ${dump} -> ${ENGINE} ${DB_HOST}:${DB_PORT}/${DB_NAME}"
fi

case "${ENGINE}" in
  postgresql)
    printf '*:*:*:*:%s\n' "$(printf '%s' "${DB_PASSWORD}" | sed 's/[\\:]/\\&/g')" > "${SCRATCH_DIR}/pgpass"
    PGPASSFILE="${SCRATCH_DIR}/pgpass" pg_restore --host="${DB_HOST}" --port="${DB_PORT}" --username="${DB_USER}" --dbname="${DB_NAME}" \
      --no-password --no-owner --clean --if-exists --single-transaction --exit-on-error "${dump}" ;;
  mysql)
    printf '[client]\npassword="%s"\n' "${DB_PASSWORD}" > "${SCRATCH_DIR}/restore.cnf"
    mysql --defaults-extra-file="${SCRATCH_DIR}/restore.cnf" --host="${DB_HOST}" --port="${DB_PORT}" \
      --user="${DB_USER}" "${DB_NAME}" < "${dump}" ;;
  mongodb)
    printf 'password: "%s"\n' "${DB_PASSWORD}" > "${SCRATCH_DIR}/mongorestore.yaml"
    # A replica set: the driver finds the primary from the seed (writes and consistent reads).
    mongorestore --config="${SCRATCH_DIR}/mongorestore.yaml" --host="${DB_REPLICA_SET:+${DB_REPLICA_SET}/}${DB_HOST}:${DB_PORT}" \
      --username="${DB_USER}" --authenticationDatabase=admin --nsInclude="${DB_NAME}.*" --drop --gzip --archive="${dump}" ;;
  redis)
    local_port="${REDIS_SCRATCH_PORT:-6390}"
    # Reads the dump where it lies; never writes (no save points, no AOF, nothing at shutdown).
    redis-server --bind 127.0.0.1 --port "${local_port}" --protected-mode yes --save "" --appendonly no \
      --dir "$(dirname "${dump}")" --dbfilename "$(basename "${dump}")" --logfile "${SCRATCH_DIR}/restore-server.log" &
    local_pid=$!
    trap 'kill "${local_pid}" 2>/dev/null || true' EXIT
    tries=0
    until [ "$(redis-cli -p "${local_port}" ping 2>/dev/null)" = PONG ]; do
      tries=$((tries + 1))
      if [ "${tries}" -gt 600 ] || ! kill -0 "${local_pid}" 2>/dev/null; then
        cat "${SCRATCH_DIR}/restore-server.log" >&2
        echo "restore: FAILED: the local server did not load ${dump}; the database was not changed" >&2
        exit 1
      fi
      sleep 0.5
    done
    keys="$(redis-cli -p "${local_port}" dbsize)"
    echo "restore: ${keys} keys loaded from the dump"
    REDISCLI_AUTH="${DB_PASSWORD}" redis-cli -h "${DB_HOST}" -p "${DB_PORT}" --user "${DB_USER}" --no-auth-warning flushall > /dev/null
    # The commands go through stdin, so the password is on no command line; it is generated
    # without quotes or backslashes (the Database's Secret).
    migrated="$(printf 'EVAL "%s" 0 %s %s %s "%s"\n' \
      "local c = '0' local n = 0 repeat local r = redis.call('SCAN', c, 'COUNT', 100) c = r[1] if #r[2] > 0 then redis.call('MIGRATE', ARGV[1], ARGV[2], '', 0, 60000, 'COPY', 'REPLACE', 'AUTH2', ARGV[3], ARGV[4], 'KEYS', unpack(r[2])) n = n + #r[2] end until c == '0' return n" \
      "${DB_HOST}" "${DB_PORT}" "${DB_USER}" "${DB_PASSWORD}" | redis-cli -p "${local_port}")"
    if [ "${migrated}" != "${keys}" ]; then
      echo "restore: FAILED: ${migrated} of ${keys} keys reached ${DB_HOST}:${DB_PORT}" >&2
      exit 1
    fi ;;
  sqlite)
    if [ ! -f "${DB_FILE}" ]; then mkdir -p "$(dirname "${DB_FILE}")"; fi
    sqlite3 "${DB_FILE}" ".restore '${dump}'"
    check="$(sqlite3 "${DB_FILE}" "PRAGMA integrity_check;")"
    if [ "${check}" != ok ]; then echo "restore: FAILED: ${DB_FILE} is not intact after the restore: ${check}" >&2; exit 1; fi ;;
esac
echo "restore: done"
