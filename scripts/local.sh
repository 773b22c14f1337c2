#!/usr/bin/env bash
# The embedded default: the whole platform on one machine, with real parts.
#
#   scripts/local.sh up     toolchain + policy pack deps, local cluster, Kafka broker, then
#                           `pulumi up --stack local` with the policy pack enforced
#   scripts/local.sh down   `pulumi destroy --stack local`, then stop the broker and the cluster
#                           (data kept; `down --purge` deletes cluster and broker data too)
#
# The cluster is etcd + kube-apiserver + controller-manager + scheduler with KWOK simulating the
# node (no container runtime exists here: pods are scheduled and reported Ready, nothing runs).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
step() { printf '\n[local] %s (%ss)\n' "$1" "$SECONDS"; }

case "${1:-}" in
  up)
    [ -d node_modules ] || { step "npm ci"; npm ci --no-audit --no-fund; }
    [ -d policies/node_modules ] || { step "policy pack dependencies"; npm --prefix policies ci --no-audit --no-fund; }
    step "toolchain"
    scripts/toolchain.sh --print-path >/dev/null
    step "local cluster"
    scripts/cluster.sh start
    step "Kafka broker"
    scripts/kafka-broker.sh start
    step "pulumi up --stack local (policy pack enforced)"
    scripts/stack.sh up local
    step "done: kubectl --kubeconfig .state/cluster/kubeconfig get pods -A"
    ;;
  down)
    if scripts/cluster.sh status >/dev/null 2>&1; then
      step "pulumi destroy --stack local"
      scripts/kafka-broker.sh status >/dev/null 2>&1 || scripts/kafka-broker.sh start
      scripts/stack.sh destroy local
    fi
    step "stop the Kafka broker"
    if [ "${2:-}" = "--purge" ]; then scripts/kafka-broker.sh reset; else scripts/kafka-broker.sh stop; fi
    step "stop the cluster"
    scripts/cluster.sh stop ${2:-}
    ;;
  *)
    echo "usage: scripts/local.sh up | down [--purge]" >&2
    exit 2
    ;;
esac
