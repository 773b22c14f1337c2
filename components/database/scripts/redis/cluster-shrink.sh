#!/bin/sh
# A Job of every `up` that changes a Redis Cluster's members, run before the StatefulSet changes
# (the StatefulSet depends on it): MEMBERS is the new member list. Every node the cluster knows
# that is not in MEMBERS (the members a scale-down removes, still running at this point) leaves
# the cluster cleanly:
#
#   0. open slots (a migration an interrupted step left) are fixed first (`--cluster fix`);
#   1. masters among them that hold slots are drained: `redis-cli --cluster rebalance` with weight
#      0 for each of them moves their slots (and keys) onto the remaining masters;
#   2. each of them is deleted with `redis-cli --cluster del-node`: its replicas that stay are
#      moved to another master, every other node gets `CLUSTER FORGET`, the node is reset;
#      a node that no longer answers (failed) is forgotten with `CLUSTER FORGET` on every member;
#   3. the script waits until the cluster reports cluster_state:ok with all 16384 slots covered.
#
# Idempotent: with no node outside MEMBERS (first creation, scale-up, a re-run) it changes
# nothing. No member answering means there is no cluster yet (first creation): nothing to do.
#
# Environment: MEMBERS ("host:port ..."), REDIS_PASSWORD_FILE (the credentials Secret's file),
# optional WAIT_SECONDS (default 120).
set -eu
# redis-cli reads the password from REDISCLI_AUTH: set for this script's redis-cli calls only (the
# container's environment carries the file's path, never the password).
REDISCLI_AUTH="$(cat "${REDIS_PASSWORD_FILE}")"
export REDISCLI_AUTH

# shellcheck source=SCRIPTDIR/cluster-slots.sh
. "$(dirname "$0")/cluster-slots.sh"

cli() { target="$1"; shift; redis-cli -h "${target%:*}" -p "${target##*:}" "$@"; }
info_field() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

entry=""
for m in ${MEMBERS}; do
  if [ "$(cli "$m" ping 2>/dev/null | tr -d '\r')" = "PONG" ]; then entry="$m"; break; fi
done
if [ -z "${entry}" ]; then
  echo "cluster-shrink: no member answers, no cluster to shrink"
  exit 0
fi
if [ "$(info_field "${entry}" cluster_known_nodes)" = "1" ]; then
  echo "cluster-shrink: ${entry} is in no cluster yet, nothing to shrink"
  exit 0
fi

# "<id> <addr> <flags> <slots>" of every node outside MEMBERS. A node's addr is its announced
# hostname (ip when none) and client port: "ip:port@bus,hostname" in CLUSTER NODES.
removed() {
  cli "${entry}" cluster nodes | tr -d '\r' | while read -r id addr flags _master _ping _pong _epoch _link slots; do
    ip="${addr%%:*}"
    port="${addr#*:}"; port="${port%%@*}"
    host="${addr#*,}"
    if [ "${host}" = "${addr}" ] || [ -z "${host}" ]; then host="${ip}"; fi
    keep=no
    for m in ${MEMBERS}; do
      if [ "$m" = "${host}:${port}" ]; then keep=yes; fi
    done
    if [ "${keep}" = "no" ]; then echo "${id} ${host}:${port} ${flags} ${slots:-}"; fi
  done
}

gone="$(removed)"
if [ -z "${gone}" ]; then
  echo "cluster-shrink: every node is a member, nothing to do"
  exit 0
fi

# A migration an earlier step left half done (a slot still importing/migrating, e.g. the
# cluster-create step's rebalance interrupted by a restart) blocks a rebalance: finish it first.
repair_slots "${entry}" cluster-shrink

# 1. Drain the masters that hold slots (weight 0 moves all of a node's slots away).
weights=""
for id in $(echo "${gone}" | awk '$3 ~ /master/ && $3 !~ /fail/ && NF > 3 { print $1 }'); do
  echo "cluster-shrink: draining $(echo "${gone}" | awk -v id="${id}" '$1 == id { print $2 }') (${id})"
  weights="${weights} ${id}=0"
done
if [ -n "${weights}" ]; then
  # shellcheck disable=SC2086 # weights is a list of node=weight words
  redis-cli --cluster rebalance "${entry}" --cluster-weight ${weights}
fi

# 2. Delete them: replicas first, then the emptied masters.
for id in $(echo "${gone}" | awk '$3 ~ /slave/ { print $1 }') $(echo "${gone}" | awk '$3 !~ /slave/ { print $1 }'); do
  line="$(echo "${gone}" | awk -v id="${id}" '$1 == id')"
  case "${line}" in
    *fail*)
      echo "cluster-shrink: forgetting failed node ${id}"
      for m in ${MEMBERS}; do cli "$m" cluster forget "${id}" >/dev/null 2>&1 || true; done ;;
    *)
      echo "cluster-shrink: deleting $(echo "${line}" | cut -d' ' -f2) (${id})"
      redis-cli --cluster del-node "${entry}" "${id}" ;;
  esac
done

# 3. Wait for a healthy cluster of the remaining members.
deadline=$(( $(date +%s) + ${WAIT_SECONDS:-120} ))
while [ "$(info_field "${entry}" cluster_state)" != "ok" ] || [ "$(info_field "${entry}" cluster_slots_ok)" != "16384" ]; do
  if [ "$(date +%s)" -ge "${deadline}" ]; then
    echo "cluster-shrink: the cluster is not ok after the removal" >&2
    redis-cli --cluster check "${entry}" >&2 || true
    exit 1
  fi
  sleep 2
done
echo "cluster-shrink: $(info_field "${entry}" cluster_known_nodes) nodes, cluster_state ok"
