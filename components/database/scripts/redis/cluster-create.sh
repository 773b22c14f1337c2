#!/bin/sh
# Beside every Redis member in cluster mode. On ordinal 0 it forms the cluster and keeps its
# membership current; on every other ordinal it only waits (the StatefulSet's pods share one
# template). Idempotent: it acts only on what `CLUSTER INFO` / `CLUSTER NODES` report.
#
#   - all members answer and none knows another node: `redis-cli --cluster create` with
#     CLUSTER_REPLICAS replicas per master (one time: afterwards the nodes know each other);
#   - the cluster exists and a member is not part of it (a scale-up): it joins as a master while
#     there are fewer than members/(1+CLUSTER_REPLICAS) masters, then slots are rebalanced onto
#     the empty masters; otherwise it joins as a replica;
#   - a restart or a re-run finds every member known and changes nothing.
#
# Environment: POD_NAME, MEMBERS ("host:port ..."), CLUSTER_REPLICAS, REDIS_RUN_DIR,
# CHECK_INTERVAL (seconds, default 30), REDIS_PASSWORD_FILE (the credentials Secret's file).
set -eu
# redis-cli reads the password from REDISCLI_AUTH: set for this script's redis-cli calls only (the
# container's environment carries the file's path, never the password).
REDISCLI_AUTH="$(cat "${REDIS_PASSWORD_FILE}")"
export REDISCLI_AUTH

ordinal="${POD_NAME##*-}"
interval="${CHECK_INTERVAL:-30}"
if [ "${ordinal}" != "0" ]; then
  echo "cluster-create: ${POD_NAME} is not ordinal 0, nothing to do"
  while true; do sleep 3600; done
fi

first="${MEMBERS%% *}"
cli() { target="$1"; shift; redis-cli -h "${target%:*}" -p "${target##*:}" "$@"; }
info_field() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

count=0
for m in ${MEMBERS}; do count=$((count + 1)); done
wanted_masters=$((count / (1 + CLUSTER_REPLICAS)))

while true; do
  all_up=yes
  for m in ${MEMBERS}; do
    if [ "$(cli "$m" ping 2>/dev/null | tr -d '\r')" != "PONG" ]; then all_up=no; fi
  done
  if [ "${all_up}" = "yes" ]; then
    formed=no
    for m in ${MEMBERS}; do
      if [ "$(info_field "$m" cluster_known_nodes)" != "1" ]; then formed=yes; fi
    done
    if [ "${formed}" = "no" ]; then
      echo "cluster-create: forming a cluster of ${count} members, ${CLUSTER_REPLICAS} replica(s) per master"
      # shellcheck disable=SC2086 # MEMBERS is a list of host:port words
      redis-cli --cluster create ${MEMBERS} --cluster-replicas "${CLUSTER_REPLICAS}" --cluster-yes
    else
      added_master=no
      for m in ${MEMBERS}; do
        if [ "$(info_field "$m" cluster_known_nodes)" = "1" ]; then
          masters="$(cli "${first}" cluster nodes | grep -c master || true)"
          if [ "${masters}" -lt "${wanted_masters}" ]; then
            echo "cluster-create: adding ${m} as a master"
            redis-cli --cluster add-node "$m" "${first}"
            added_master=yes
          else
            echo "cluster-create: adding ${m} as a replica"
            redis-cli --cluster add-node "$m" "${first}" --cluster-slave
          fi
          sleep 2
        fi
      done
      if [ "${added_master}" = "yes" ]; then
        redis-cli --cluster check "${first}" >/dev/null 2>&1 || sleep 5
        redis-cli --cluster rebalance "${first}" --cluster-use-empty-masters
      fi
    fi
    if [ "$(info_field "${first}" cluster_state)" = "ok" ]; then
      touch "${REDIS_RUN_DIR}/cluster-formed"
    fi
  fi
  sleep "${interval}"
done
