#!/bin/sh
# Beside every Redis member in cluster mode. On ordinal 0 it forms the cluster and keeps its
# membership current; on every other ordinal it only waits (the StatefulSet's pods share one
# template). Idempotent: it acts only on what `CLUSTER INFO` / `CLUSTER NODES` report.
#
#   - all members answer and none knows another node: `redis-cli --cluster create` with
#     CLUSTER_REPLICAS replicas per master (one time: afterwards the nodes know each other);
#   - the cluster exists and a member is not part of it (a scale-up): it joins as a master while
#     there are fewer than members/(1+CLUSTER_REPLICAS) masters, then slots are rebalanced onto
#     the empty masters; otherwise it joins as a replica; an add, a rebalance or a replica attach
#     cut short by a gossip race (a node not yet known to every member) is repaired next round;
#   - masters without slots are read from the cluster each round: while fewer masters than wanted
#     hold slots, the first empty ones get slots; any beyond that is made a replica (so a step cut
#     off mid scale-up finishes it when it runs again);
#   - a restart or a re-run on a complete cluster finds every member known and changes nothing.
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

# shellcheck source=SCRIPTDIR/cluster-slots.sh
. "$(dirname "$0")/cluster-slots.sh"

first="${MEMBERS%% *}"
cli() { target="$1"; shift; redis-cli -h "${target%:*}" -p "${target##*:}" "$@"; }
info_field() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

# Waits (up to 30 s) until every member knows as many nodes as the first: gossip has spread the
# nodes just added, so that CLUSTER REPLICATE and slot migrations name nodes every member knows.
settle() {
  total="$(cli "${first}" cluster nodes | grep -c . || true)"
  tries=0
  while [ "${tries}" -lt 30 ]; do
    agreed=yes
    for m in ${MEMBERS}; do
      if [ "$(info_field "$m" cluster_known_nodes)" != "${total}" ]; then agreed=no; fi
    done
    if [ "${agreed}" = "yes" ]; then return 0; fi
    tries=$((tries + 1))
    sleep 1
  done
}

# Masters without slots (the members' own views decide: another member's may lag behind). While
# fewer than the wanted number of masters hold slots, the first of them in MEMBERS order are kept
# for the rebalance; any beyond that is a replica that never attached (`redis-cli --cluster add-node
# --cluster-slave` fails with "Unknown node" when the new node has not yet learnt of its master
# through gossip, and the node stays an empty master) and is made a replica of the master with the
# fewest replicas. Sets kept_empty (empty masters kept) and converted (yes when a member was made a
# replica this round: the others' views of it lag, so the rebalance waits for the next round).
adopt_empty_masters() {
  kept_empty=0
  converted=no
  nodes="$(cli "${first}" cluster nodes | tr -d '\r')"
  holding="$(printf '%s\n' "${nodes}" | awk '$3 ~ /master/ && $3 !~ /fail/ && NF > 8' | wc -l)"
  keep=$((wanted_masters - holding))
  kept=""
  for m in ${MEMBERS}; do
    own="$(cli "$m" cluster nodes 2>/dev/null | tr -d '\r' | awk '$3 ~ /myself/ && $3 ~ /master/ && NF == 8 {print $1}')"
    [ -n "${own}" ] || continue
    if [ "${keep}" -gt 0 ]; then
      keep=$((keep - 1))
      kept_empty=$((kept_empty + 1))
      kept="${kept} ${own}"
      continue
    fi
    target="$(printf '%s\n' "${nodes}" | awk -v kept="${kept}" '
      BEGIN {n = split(kept, k, " "); for (i = 1; i <= n; i++) ok[k[i]] = 1}
      $3 ~ /master/ && $3 !~ /fail/ && (NF > 8 || ($1 in ok)) {m[$1] = 1}
      $3 ~ /slave/ {r[$4]++}
      END {for (id in m) if (best == "" || r[id] + 0 < r[best] + 0) best = id; print best}')"
    [ -n "${target}" ] || continue
    echo "cluster-create: ${m} is an empty master beyond ${wanted_masters}; making it a replica of ${target}"
    cli "${m}" cluster replicate "${target}" || true
    converted=yes
  done
}

rebalance_pending=no
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
          # A failed add (a gossip race) is repaired by the steps below, this round or the next.
          if [ "${masters}" -lt "${wanted_masters}" ]; then
            echo "cluster-create: adding ${m} as a master"
            redis-cli --cluster add-node "$m" "${first}" || echo "cluster-create: adding ${m} failed; repaired next round"
            added_master=yes
          else
            echo "cluster-create: adding ${m} as a replica"
            redis-cli --cluster add-node "$m" "${first}" --cluster-slave || echo "cluster-create: adding ${m} failed; repaired next round"
          fi
          sleep 2
        fi
      done
      if [ "${added_master}" = "yes" ]; then rebalance_pending=yes; fi
      settle
      adopt_empty_masters
      # An empty master kept for slots (e.g. one added before a restart of this step) needs them.
      if [ "${kept_empty}" -gt 0 ]; then rebalance_pending=yes; fi
      if [ "${rebalance_pending}" = "yes" ] && [ "${converted}" = "no" ]; then
        # A rebalance cut short (e.g. "I don't know about node": a master that had not yet heard
        # of the new one) leaves a slot open and the new master empty: fix, then retry next round.
        repair_slots "${first}" cluster-create || true
        if redis-cli --cluster rebalance "${first}" --cluster-use-empty-masters; then
          rebalance_pending=no
          echo "cluster-create: slots rebalanced"
        else
          echo "cluster-create: rebalance failed; retrying in ${interval} s"
        fi
      fi
    fi
    if [ "$(info_field "${first}" cluster_state)" = "ok" ]; then
      touch "${REDIS_RUN_DIR}/cluster-formed"
    fi
  fi
  sleep "${interval}"
done
