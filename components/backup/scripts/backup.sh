#!/bin/sh
# The DatabaseBackup CronJob's command: dumps database $DB_NAME of the $ENGINE server at
# $DB_HOST:$DB_PORT into $BACKUP_DIR (the backup claim) as "$DB_NAME-<UTC timestamp>.<ext>",
# written under a temporary name and renamed when complete, then keeps the newest $KEEP dumps.
#
# The credential never reaches a command line or the container's environment: it is read from the
# database Secret's file ($DB_PASSWORD_FILE, a read-only Secret volume) into a client file in
# $SCRATCH_DIR (the pod's /tmp emptyDir, mode 0600): a pgpass file (postgresql, PGPASSFILE), an
# option file (mysql), a config file (mongodb); redis-cli gets it as REDISCLI_AUTH of that one call.
# Redis: an RDB snapshot taken over the replication protocol (redis-cli --rdb); in sentinel mode
# (DB_SENTINEL_MASTER set) DB_HOST:DB_PORT are the sentinels, asked for the current primary first.
# SQLite: the database file ($DB_FILE, on the database's claim mounted in this pod) copied with
# SQLite's online backup API (sqlite3 .backup: a consistent copy while the server writes), then
# checked with PRAGMA integrity_check; no network, no credentials.
#
# Environment: ENGINE (postgresql|mysql|mongodb|redis|sqlite), DB_HOST, DB_PORT, DB_NAME, KEEP,
# BACKUP_DIR, SCRATCH_DIR, DB_REPLICA_SET (mongodb replica sets, optional), DB_SENTINEL_MASTER
# (redis sentinel mode, optional), DB_FILE (sqlite), DB_USER_FILE and DB_PASSWORD_FILE (files of the
# database Secret; not for sqlite).
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
  *) echo "backup: unknown engine ${ENGINE}" >&2; exit 2 ;;
esac

# Redis sentinel mode: the primary the sentinels name now (redis-primary.sh, beside this script).
# shellcheck source-path=SCRIPTDIR source=redis-primary.sh
. "$(dirname "$0")/redis-primary.sh"
resolve_primary backup

case "${KEEP}" in
  ''|*[!0-9]*|0) echo "backup: KEEP must be a positive integer, got '${KEEP}'" >&2; exit 2 ;;
esac

rm -f "${BACKUP_DIR}/${DB_NAME}"-*.partial
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
final="${BACKUP_DIR}/${DB_NAME}-${stamp}.${ext}"
out="${final}.partial"

case "${ENGINE}" in
  postgresql)
    # pgpass: host:port:database:user:password, with ':' and '\' escaped.
    printf '*:*:*:*:%s\n' "$(printf '%s' "${DB_PASSWORD}" | sed 's/[\\:]/\\&/g')" > "${SCRATCH_DIR}/pgpass"
    PGPASSFILE="${SCRATCH_DIR}/pgpass" pg_dump --host="${DB_HOST}" --port="${DB_PORT}" --username="${DB_USER}" --dbname="${DB_NAME}" \
      --format=custom --no-password --file="${out}" ;;
  mysql)
    printf '[client]\npassword="%s"\n' "${DB_PASSWORD}" > "${SCRATCH_DIR}/backup.cnf"
    # Oracle's mysqldump (the mysql:8 image) writes SET @@SESSION.SQL_LOG_BIN=0 and SET
    # @@GLOBAL.GTID_PURGED into dumps of a server with GTIDs (every replicated member): the app user
    # may set neither, and a restore that did would not reach the replicas. MariaDB's mysqldump has
    # no such option and writes neither statement.
    gtid=""
    if mysqldump --help 2>/dev/null | grep -q -- '--set-gtid-purged'; then gtid="--set-gtid-purged=OFF"; fi
    mysqldump --defaults-extra-file="${SCRATCH_DIR}/backup.cnf" --host="${DB_HOST}" --port="${DB_PORT}" \
      --user="${DB_USER}" --single-transaction --routines --triggers --no-tablespaces ${gtid:+"${gtid}"} \
      --result-file="${out}" "${DB_NAME}" ;;
  mongodb)
    printf 'password: "%s"\n' "${DB_PASSWORD}" > "${SCRATCH_DIR}/mongodump.yaml"
    # A replica set: the driver finds the primary from the seed (writes and consistent reads).
    mongodump --config="${SCRATCH_DIR}/mongodump.yaml" --host="${DB_REPLICA_SET:+${DB_REPLICA_SET}/}${DB_HOST}:${DB_PORT}" \
      --username="${DB_USER}" --authenticationDatabase=admin --db="${DB_NAME}" --gzip --archive="${out}" ;;
  redis)
    REDISCLI_AUTH="${DB_PASSWORD}" redis-cli -h "${DB_HOST}" -p "${DB_PORT}" --user "${DB_USER}" --no-auth-warning --rdb "${out}"
    redis-check-rdb "${out}" > /dev/null ;;
  sqlite)
    if [ ! -f "${DB_FILE}" ]; then echo "backup: FAILED: no database file ${DB_FILE}" >&2; exit 1; fi
    sqlite3 "${DB_FILE}" ".backup '${out}'"
    check="$(sqlite3 "${out}" "PRAGMA integrity_check;")"
    if [ "${check}" != ok ]; then echo "backup: FAILED: the copy of ${DB_FILE} is not intact: ${check}" >&2; exit 1; fi ;;
esac

mv "${out}" "${final}"
echo "wrote ${final}"

# Retention: names carry a sortable UTC timestamp, so the glob's order is oldest first.
set -- "${BACKUP_DIR}/${DB_NAME}"-*."${ext}"
excess=$(($# - KEEP))
for old in "$@"; do
  if [ "${excess}" -le 0 ]; then break; fi
  echo "removing old dump ${old}"
  rm -f -- "${old}"
  excess=$((excess - 1))
done
