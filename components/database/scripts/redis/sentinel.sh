#!/bin/sh
# Sentinel container beside every Redis member (mode sentinel). Sentinel rewrites its own config
# file as it learns (current primary, replicas, other sentinels), so the file lives in
# $SENTINEL_DIR (an emptyDir) and is written only when absent: a restarted sentinel container keeps
# what it knew. A new one asks the other sentinels (SENTINELS) for the current primary and monitors
# that; ordinal 0 when none knows one yet. Quorum: a majority of the members (QUORUM).
#
# Environment: SENTINEL_PORT, SENTINEL_DIR, SENTINELS ("host:port ..."), ANNOUNCE_HOST, MASTER_NAME,
# PRIMARY_HOST, PRIMARY_PORT, QUORUM, DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS; REDIS_PASSWORD_FILE (the
# credentials Secret's file): the password protects the sentinels and authenticates them to Redis
# and to each other. It goes into the config file and to redis-cli (REDISCLI_AUTH of that call
# only), never into the sentinel's environment or onto a command line.
set -eu
password="$(cat "${REDIS_PASSWORD_FILE}")"

conf="${SENTINEL_DIR}/sentinel.conf"
if [ ! -s "${conf}" ]; then
  current_host="${PRIMARY_HOST}"
  current_port="${PRIMARY_PORT}"
  for sentinel in ${SENTINELS}; do
    if [ "${sentinel}" = "${ANNOUNCE_HOST}:${SENTINEL_PORT}" ]; then continue; fi
    reply="$(REDISCLI_AUTH="${password}" redis-cli -h "${sentinel%:*}" -p "${sentinel##*:}" --raw sentinel get-master-addr-by-name "${MASTER_NAME}" 2>/dev/null)" || continue
    host="$(echo "${reply}" | sed -n 1p)"
    port="$(echo "${reply}" | sed -n 2p)"
    if [ -n "${host}" ] && [ -n "${port}" ]; then
      current_host="${host}"
      current_port="${port}"
      break
    fi
  done
  umask 077
  {
    echo "port ${SENTINEL_PORT}"
    echo "dir ${SENTINEL_DIR}"
    echo "sentinel resolve-hostnames yes"
    echo "sentinel announce-hostnames yes"
    echo "sentinel announce-ip ${ANNOUNCE_HOST}"
    printf 'requirepass "%s"\n' "${password}"
    printf 'sentinel sentinel-pass "%s"\n' "${password}"
    echo "sentinel monitor ${MASTER_NAME} ${current_host} ${current_port} ${QUORUM}"
    printf 'sentinel auth-pass %s "%s"\n' "${MASTER_NAME}" "${password}"
    echo "sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}"
    echo "sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT_MS}"
    echo "sentinel parallel-syncs ${MASTER_NAME} 1"
  } > "${conf}"
  echo "sentinel: monitoring ${MASTER_NAME} at ${current_host}:${current_port}, quorum ${QUORUM}"
fi
exec redis-sentinel "${conf}"
