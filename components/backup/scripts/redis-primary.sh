# shellcheck shell=sh
# Sourced by backup.sh and restore.sh: in Redis sentinel mode (DB_SENTINEL_MASTER set), DB_HOST and
# DB_PORT are the sentinels' endpoint; this asks them for the primary they name now (it moves on a
# failover) and points DB_HOST and DB_PORT at it. The password goes to redis-cli as REDISCLI_AUTH
# of that one call. Fails (exit 1, naming the sentinels) when no primary is named.
#
# Arguments: the caller's name for its messages. Reads DB_HOST, DB_PORT, DB_USER, DB_PASSWORD,
# DB_SENTINEL_MASTER.
resolve_primary() {
  if [ -z "${DB_SENTINEL_MASTER:-}" ]; then return 0; fi
  reply="$(REDISCLI_AUTH="${DB_PASSWORD}" redis-cli -h "${DB_HOST}" -p "${DB_PORT}" --user "${DB_USER}" --no-auth-warning --raw \
    sentinel get-master-addr-by-name "${DB_SENTINEL_MASTER}")" || reply=""
  primary_host="$(echo "${reply}" | sed -n 1p)"
  primary_port="$(echo "${reply}" | sed -n 2p)"
  case "${primary_port}" in
    ''|*[!0-9]*)
      echo "$1: FAILED: the sentinels at ${DB_HOST}:${DB_PORT} name no primary for ${DB_SENTINEL_MASTER} (reply: ${reply}); nothing was changed" >&2
      exit 1 ;;
  esac
  echo "$1: sentinel ${DB_HOST}:${DB_PORT} names ${primary_host}:${primary_port} the primary of ${DB_SENTINEL_MASTER}"
  DB_HOST="${primary_host}"
  DB_PORT="${primary_port}"
}
