#!/bin/sh
# The restore Job's command for Elasticsearch (a Job created from the suspended "<backup>-restore"
# CronJob): restores a snapshot of the cluster's filesystem repository (es-snapshot.sh). The
# snapshot is $DUMP (a snapshot name), or, when DUMP is empty, the newest "$DB_NAME-*" snapshot;
# DUMP=list prints the snapshots there are and changes nothing.
#   PUT    /_snapshot/$REPOSITORY                       (registered again: a rebuilt cluster has none)
#   GET    /_cat/snapshots/$REPOSITORY?h=id&s=start_epoch   (this database's snapshots, oldest first)
#   GET    /_snapshot/$REPOSITORY/<name>?filter_path=snapshots.state,snapshots.indices
#                                                       (must have state SUCCESS; its indices)
#   DELETE /<index>                                     (each of the snapshot's indices that exists, by name)
#   POST   /_snapshot/$REPOSITORY/<name>/_restore?wait_for_completion=true
#          {"indices":"<its indices>","include_global_state":false}
# System indices (names starting with '.') and the global state are left as they are. The Job fails
# (naming the snapshot) before any index is deleted when the snapshot is missing or not complete,
# and fails when a shard was not restored.
#
# Environment: as es-snapshot.sh (DB_HOST, DB_PORT, DB_NAME, REPOSITORY, SNAPSHOT_DIR, SCRATCH_DIR,
# ES_SCHEME, DB_USER_FILE, DB_PASSWORD_FILE), plus DUMP (optional).
set -eu
WHO=restore
# shellcheck source-path=SCRIPTDIR source=es-api.sh
. "$(dirname "$0")/es-api.sh"
register_repository
snapshots="$(list_snapshots)"
snapshot="${DUMP:-}"
case "${snapshot}" in
  list)
    echo "restore: snapshots in ${REPOSITORY}:"
    echo "${snapshots:-  (none)}"
    exit 0 ;;
  "")
    snapshot="$(echo "${snapshots}" | tail -n 1)"
    if [ -z "${snapshot}" ]; then
      echo "restore: FAILED: no snapshot of ${DB_NAME} in ${REPOSITORY}" >&2
      exit 1
    fi ;;
esac
if ! echo "${snapshots}" | grep -qx "${snapshot}"; then
  echo "restore: FAILED: snapshot ${snapshot} does not exist in ${REPOSITORY}; there are: ${snapshots:-none}" >&2
  exit 1
fi
info="$(es GET "/_snapshot/${REPOSITORY}/${snapshot}?filter_path=snapshots.state,snapshots.indices")"
if ! echo "${info}" | grep -q '"state":"SUCCESS"'; then
  echo "restore: FAILED: snapshot ${snapshot} is not complete (state is not SUCCESS); the cluster was not changed" >&2
  exit 1
fi
# Its indices: the one "indices" array the filtered answer holds (index names hold no quotes or commas).
indices="$(echo "${info}" | sed -n 's/.*"indices":\[\([^]]*\)\].*/\1/p' | tr -d '"' | tr ',' '\n' | grep -v '^\.' | grep . || true)"
if [ -z "${indices}" ]; then
  echo "restore: snapshot ${snapshot} holds no index to restore"
  exit 0
fi
list="$(echo "${indices}" | paste -sd, -)"
echo "restore: snapshot ${snapshot} -> elasticsearch ${DB_HOST}:${DB_PORT}, indices ${list}"
for index in ${indices}; do
  es DELETE "/${index}?ignore_unavailable=true" > /dev/null
done
result="$(es POST "/_snapshot/${REPOSITORY}/${snapshot}/_restore?wait_for_completion=true" "{\"indices\":\"${list}\",\"include_global_state\":false}")"
if ! echo "${result}" | grep -q '"failed":0'; then
  echo "restore: FAILED: not every shard was restored: ${result}" >&2
  exit 1
fi
echo "restore: done"
