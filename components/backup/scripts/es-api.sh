# shellcheck shell=sh
# Sourced by es-snapshot.sh and es-restore.sh: the Elasticsearch API as the database's user.
# The password reaches curl in a netrc file in $SCRATCH_DIR (mode 0600), never on a command line.
# --insecure: each node's HTTP certificate is signed by the CA its image generated at first start,
# which no other pod has; the password is still sent only over TLS.
#
# Reads DB_HOST, DB_PORT, ES_SCHEME (default https), SCRATCH_DIR, DB_USER_FILE, DB_PASSWORD_FILE,
# and WHO (the caller's name for its messages).
umask 077
printf 'machine %s login %s password %s\n' "${DB_HOST}" "$(cat "${DB_USER_FILE}")" "$(cat "${DB_PASSWORD_FILE}")" > "${SCRATCH_DIR}/netrc"
base="${ES_SCHEME:-https}://${DB_HOST}:${DB_PORT}"

# es METHOD PATH [BODY]: the response body on stdout; exits 1 on no answer or an HTTP error, printing it.
es() {
  if ! body="$(curl --silent --show-error --insecure --netrc-file "${SCRATCH_DIR}/netrc" --request "$1" \
    --header 'Content-Type: application/json' ${3:+--data "$3"} --write-out '\n%{http_code}' "${base}$2")"; then
    echo "${WHO}: FAILED: $1 $2: no answer from ${base}" >&2
    exit 1
  fi
  code="$(echo "${body}" | tail -n 1)"
  body="$(echo "${body}" | sed '$d')"
  case "${code}" in
    2??) echo "${body}" ;;
    *) echo "${WHO}: FAILED: $1 $2: HTTP ${code}: ${body}" >&2; exit 1 ;;
  esac
}

# The repository on the claim every node mounts at SNAPSHOT_DIR (idempotent: a rebuilt cluster has none).
register_repository() {
  es PUT "/_snapshot/${REPOSITORY}" "{\"type\":\"fs\",\"settings\":{\"location\":\"${SNAPSHOT_DIR}\"}}" > /dev/null
}

# This database's snapshots, oldest first, one name a line.
list_snapshots() {
  all="$(es GET "/_cat/snapshots/${REPOSITORY}?h=id&s=start_epoch")" || exit 1
  echo "${all}" | grep "^${DB_NAME}-" || true
}
