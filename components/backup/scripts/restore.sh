#!/bin/sh
# Restores a dump written by backup.sh into database $DB_NAME of the $ENGINE server at
# $DB_HOST:$DB_PORT: $DUMP, or the newest "$DB_NAME-*.<ext>" in $BACKUP_DIR. Run it in a pod
# that mounts the backup claim and the database Secret like the CronJob's (same image, env,
# network access), e.g. a Job made from the CronJob with this script as the command.
#
# Environment: as backup.sh (DB_USER_FILE and DB_PASSWORD_FILE: files of the database Secret),
# plus DUMP (optional).
set -eu
umask 077
DB_USER="$(cat "${DB_USER_FILE}")"
DB_PASSWORD="$(cat "${DB_PASSWORD_FILE}")"

case "${ENGINE}" in
  postgresql) ext=dump ;;
  mysql) ext=sql ;;
  mongodb) ext=archive.gz ;;
  *) echo "restore: unknown engine ${ENGINE}" >&2; exit 2 ;;
esac

dump="${DUMP:-}"
if [ -z "${dump}" ]; then
  for f in "${BACKUP_DIR}/${DB_NAME}"-*."${ext}"; do
    if [ -e "${f}" ]; then dump="${f}"; fi
  done
fi
if [ -z "${dump}" ] || [ ! -e "${dump}" ]; then
  echo "restore: no dump of ${DB_NAME} in ${BACKUP_DIR}" >&2
  exit 1
fi
echo "restore: ${dump} -> ${ENGINE} ${DB_HOST}:${DB_PORT}/${DB_NAME}"

case "${ENGINE}" in
  postgresql)
    printf '*:*:*:*:%s\n' "$(printf '%s' "${DB_PASSWORD}" | sed 's/[\\:]/\\&/g')" > "${SCRATCH_DIR}/pgpass"
    PGPASSFILE="${SCRATCH_DIR}/pgpass" pg_restore --host="${DB_HOST}" --port="${DB_PORT}" --username="${DB_USER}" --dbname="${DB_NAME}" \
      --no-password --no-owner --exit-on-error "${dump}" ;;
  mysql)
    printf '[client]\npassword="%s"\n' "${DB_PASSWORD}" > "${SCRATCH_DIR}/restore.cnf"
    mysql --defaults-extra-file="${SCRATCH_DIR}/restore.cnf" --host="${DB_HOST}" --port="${DB_PORT}" \
      --user="${DB_USER}" "${DB_NAME}" < "${dump}" ;;
  mongodb)
    printf 'password: "%s"\n' "${DB_PASSWORD}" > "${SCRATCH_DIR}/mongorestore.yaml"
    mongorestore --config="${SCRATCH_DIR}/mongorestore.yaml" --host="${DB_HOST}" --port="${DB_PORT}" \
      --username="${DB_USER}" --authenticationDatabase=admin --nsInclude="${DB_NAME}.*" --gzip --archive="${dump}" ;;
esac
echo "restore: done"
