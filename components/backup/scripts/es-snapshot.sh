#!/bin/sh
# The DatabaseBackup CronJob's command for Elasticsearch: a snapshot of every index into the
# cluster's filesystem repository, then the newest $KEEP snapshots kept. Elasticsearch writes the
# snapshot itself, into the backup claim every node mounts at $SNAPSHOT_DIR (its `path.repo`); this
# pod only calls the API:
#   PUT    /_snapshot/$REPOSITORY                      {"type":"fs","settings":{"location":"$SNAPSHOT_DIR"}}
#   PUT    /_snapshot/$REPOSITORY/<name>?wait_for_completion=true   (every index, the global state)
#   GET    /_cat/snapshots/$REPOSITORY?h=id&s=start_epoch          (oldest first)
#   DELETE /_snapshot/$REPOSITORY/<old>                            (beyond the newest $KEEP)
# Snapshot names: "$DB_NAME-<UTC timestamp>" (lowercase, as Elasticsearch requires). The run fails
# unless the snapshot's state is SUCCESS.
# The API calls go through es-api.sh (beside this script: credentials in a netrc file).
#
# Environment: DB_HOST, DB_PORT, DB_NAME, KEEP, REPOSITORY, SNAPSHOT_DIR, SCRATCH_DIR, ES_SCHEME
# (default https), DB_USER_FILE and DB_PASSWORD_FILE (files of the database Secret).
set -eu
case "${KEEP}" in
  ''|*[!0-9]*|0) echo "backup: KEEP must be a positive integer, got '${KEEP}'" >&2; exit 2 ;;
esac
WHO=backup
# shellcheck source-path=SCRIPTDIR source=es-api.sh
. "$(dirname "$0")/es-api.sh"
register_repository
name="${DB_NAME}-$(date -u +%Y%m%dt%H%M%Sz)"
result="$(es PUT "/_snapshot/${REPOSITORY}/${name}?wait_for_completion=true" '{"indices":"*","include_global_state":true}')"
if ! echo "${result}" | grep -q '"state":"SUCCESS"'; then
  echo "backup: FAILED: snapshot ${name} did not succeed: ${result}" >&2
  exit 1
fi
echo "wrote snapshot ${name} in repository ${REPOSITORY} (${SNAPSHOT_DIR})"

# Retention: only this database's snapshots, oldest first.
snapshots="$(list_snapshots)"
count="$(echo "${snapshots}" | grep -c . || true)"
excess=$((count - KEEP))
for old in ${snapshots}; do
  if [ "${excess}" -le 0 ]; then break; fi
  echo "removing old snapshot ${old}"
  es DELETE "/_snapshot/${REPOSITORY}/${old}" > /dev/null
  excess=$((excess - 1))
done
