#!/bin/sh
# The restore Job's command (a Job created from the suspended "<backup>-restore" CronJob): restores
# a dump written by backup.sh into database $DB_NAME of the $ENGINE server at $DB_HOST:$DB_PORT.
# The dump is $DUMP (a file name in $BACKUP_DIR, or a path), or, when DUMP is empty, the newest
# "$DB_NAME-*.<ext>" in $BACKUP_DIR. DUMP=list prints the dumps there are and changes nothing.
#
# It fails loudly (non-zero exit, a message naming the dump) and before touching the database when
# the dump is missing or not a complete dump of its engine. The restore replaces what the dump
# holds: postgresql drops and recreates the dumped objects in one transaction (all or nothing),
# mysql runs the dump's DROP/CREATE TABLE statements, mongodb drops each restored collection first.
#
# Environment: as backup.sh (ENGINE, DB_HOST, DB_PORT, DB_NAME, DB_USER, BACKUP_DIR, SCRATCH_DIR,
# PGPASSWORD or DB_PASSWORD), plus DUMP (optional).
set -eu
umask 077

case "${ENGINE}" in
  postgresql) ext=dump ;;
  mysql) ext=sql ;;
  mongodb) ext=archive.gz ;;
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

# Check the whole dump before the database is touched.
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
esac
echo "restore: ${dump} -> ${ENGINE} ${DB_HOST}:${DB_PORT}/${DB_NAME}"

case "${ENGINE}" in
  postgresql)
    pg_restore --host="${DB_HOST}" --port="${DB_PORT}" --username="${DB_USER}" --dbname="${DB_NAME}" \
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
esac
echo "restore: done"
