#!/bin/sh
# Main container of every Redis member: writes the server's config file into $REDIS_RUN_DIR (an
# emptyDir, mode 0600: the credential never appears on a command line) and execs redis-server.
#
# Who is the primary, per REDIS_MODE:
#   standalone   this member (one replica).
#   replication  ordinal 0; every other member replicates it.
#   sentinel     the primary the sentinels currently know (asked in turn, SENTINELS), so a member
#                restarted after a failover follows the new primary; ordinal 0 when no sentinel
#                knows one yet (first formation).
#   cluster      no primary: cluster-enabled, nodes.conf on the data volume; scripts/redis/
#                cluster-create.sh forms the cluster once and adds members on scale-up.
#
# Environment: POD_NAME (<statefulset>-<ordinal>), REDIS_MODE, REDIS_PORT, REDIS_DATA_DIR,
# REDIS_RUN_DIR, ANNOUNCE_HOST (this member's stable DNS name), PRIMARY_HOST and PRIMARY_PORT
# (ordinal 0), SENTINELS ("host:port ..."), MASTER_NAME, REDIS_APPENDONLY (yes|no), optional
# REDIS_MAXMEMORY and REDIS_MAXMEMORY_POLICY; REDIS_PASSWORD_FILE (the credentials Secret's file)
# holds the credential of the server, of its replication link and of the sentinels. It goes into
# the config file and to redis-cli (REDISCLI_AUTH of that call only), never into redis-server's
# environment.
set -eu
password="$(cat "${REDIS_PASSWORD_FILE}")"

ordinal="${POD_NAME##*-}"
conf="${REDIS_RUN_DIR}/redis.conf"

current_host="${PRIMARY_HOST}"
current_port="${PRIMARY_PORT}"
if [ "${REDIS_MODE}" = "sentinel" ]; then
  for sentinel in ${SENTINELS}; do
    reply="$(REDISCLI_AUTH="${password}" redis-cli -h "${sentinel%:*}" -p "${sentinel##*:}" --raw sentinel get-master-addr-by-name "${MASTER_NAME}" 2>/dev/null)" || continue
    host="$(echo "${reply}" | sed -n 1p)"
    port="$(echo "${reply}" | sed -n 2p)"
    if [ -n "${host}" ] && [ -n "${port}" ]; then
      current_host="${host}"
      current_port="${port}"
      echo "start-redis: sentinel ${sentinel} names ${host}:${port} as the primary"
      break
    fi
  done
fi

replica_of=""
case "${REDIS_MODE}" in
  replication)
    if [ "${ordinal}" != "0" ]; then replica_of="${current_host} ${current_port}"; fi ;;
  sentinel)
    if [ "${current_host}" != "${ANNOUNCE_HOST}" ] || [ "${current_port}" != "${REDIS_PORT}" ]; then
      replica_of="${current_host} ${current_port}"
    fi ;;
esac

umask 077
{
  echo "port ${REDIS_PORT}"
  echo "dir ${REDIS_DATA_DIR}"
  printf 'requirepass "%s"\n' "${password}"
  printf 'masterauth "%s"\n' "${password}"
  echo "appendonly ${REDIS_APPENDONLY}"
  if [ -n "${REDIS_MAXMEMORY:-}" ]; then echo "maxmemory ${REDIS_MAXMEMORY}"; fi
  if [ -n "${REDIS_MAXMEMORY_POLICY:-}" ]; then echo "maxmemory-policy ${REDIS_MAXMEMORY_POLICY}"; fi
  # Replicas announce their stable name, so sentinels and replicas survive pod IP changes.
  echo "replica-announce-ip ${ANNOUNCE_HOST}"
  if [ "${REDIS_MODE}" = "cluster" ]; then
    echo "cluster-enabled yes"
    echo "cluster-config-file ${REDIS_DATA_DIR}/nodes.conf"
    echo "cluster-announce-hostname ${ANNOUNCE_HOST}"
    echo "cluster-preferred-endpoint-type hostname"
  fi
  if [ -n "${replica_of}" ]; then echo "replicaof ${replica_of}"; fi
} > "${conf}"

echo "start-redis: ${POD_NAME} mode ${REDIS_MODE}${replica_of:+, replica of ${replica_of}}"
exec redis-server "${conf}"
