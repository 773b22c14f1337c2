#!/bin/sh
# Sourced by cluster-create.sh and cluster-shrink.sh (both in the same ConfigMap directory).
#
# repair_slots ENTRY TAG: `redis-cli --cluster fix` only where a slot is really open or uncovered.
# Right after a slot move or a role change the members' views differ for a few seconds of gossip
# ("Nodes don't agree about configuration!"), and `--cluster check` fails. A fix run on such a view
# can give a slot that only looks uncovered to another master: the keys stay on the old owner and
# read as nil. So while the nodes disagree it waits (AGREE_SECONDS, default 30) and checks again;
# it fixes when the check still fails once they agree, or when the wait is over.
repair_slots() {
  waited=0
  while ! check="$(redis-cli --cluster check "$1" 2>&1)"; do
    case "${check}" in
      *"don't agree"*)
        if [ "${waited}" -lt "${AGREE_SECONDS:-30}" ]; then
          waited=$((waited + 1))
          sleep 1
          continue
        fi ;;
    esac
    echo "$2: fixing open slots ($(echo "${check}" | grep -E '^\[(ERR|WARNING)\]' | head -n 3 | tr '\n' ' '))"
    redis-cli --cluster fix "$1" --cluster-yes
    return
  done
}
