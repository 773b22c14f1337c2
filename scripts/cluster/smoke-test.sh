#!/usr/bin/env bash
# Smoke test of a running local cluster (scripts/cluster.sh start): nodes Ready, a Deployment
# that satisfies the `restricted` Pod Security Standard becomes Available, a non-compliant pod is
# refused, a StatefulSet's claim binds and its pod becomes Ready, RBAC answers for a
# ServiceAccount (impersonated and with its own token), foreground deletion goes through the
# garbage collector, and the namespace is finalized. Exit 0 when everything holds.
#
#   scripts/cluster/smoke-test.sh [--keep]     --keep leaves the test namespace behind
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KUBECONFIG_FILE="${KUBECONFIG_FILE:-$("$ROOT/scripts/cluster.sh" kubeconfig)}"
NS="smoke-$(date +%s)"
keep=0; [ "${1:-}" = --keep ] && keep=1
kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }
step() { printf '[smoke] %-70s' "$1"; T0=$(date +%s.%N); }
ok() { printf 'ok (%ss)\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"; }
fail() { printf 'FAILED\n[smoke] %s\n' "$*" >&2; exit 1; }
# retry a command until it succeeds or the timeout (seconds) passes
until_ok() { local end=$(( $(date +%s) + $1 )); shift; until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.5; done; }
cleanup() { [ "$keep" = 1 ] || kc delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

[ -f "$KUBECONFIG_FILE" ] || fail "no kubeconfig at $KUBECONFIG_FILE: run scripts/cluster.sh start"

step "nodes Ready"
kc wait --for=condition=Ready node --all --timeout=30s >/dev/null || fail "$(kc get nodes 2>&1)"
ok

step "namespace $NS (enforce: restricted)"
kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
EOF
until_ok 30 kc -n "$NS" get serviceaccount default \
  || fail "no default ServiceAccount (controller-manager?)"
ok

POD_SECURITY='
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: {type: RuntimeDefault}'
CONTAINER_SECURITY='
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}'

step "pod without a restricted securityContext refused"
out="$(kc -n "$NS" run bad --image=registry.k8s.io/pause:3.10 2>&1 || true)"
grep -q 'violates PodSecurity "restricted' <<<"$out" || fail "expected a PodSecurity refusal, got: $out"
ok

step "Deployment (2 replicas, restricted) Available"
kc -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:$POD_SECURITY
      containers:
        - name: web
          image: registry.k8s.io/pause:3.10
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 32Mi}}$CONTAINER_SECURITY
EOF
kc -n "$NS" wait --for=condition=Available deployment/web --timeout=60s >/dev/null \
  || fail "$(kc -n "$NS" get deploy,rs,pods -o wide 2>&1; kc -n "$NS" get events 2>&1 | tail -5)"
[ "$(kc -n "$NS" get deployment web -o jsonpath='{.status.readyReplicas}')" = 2 ] || fail "readyReplicas != 2"
ok

step "StatefulSet with a volumeClaimTemplate: PVC Bound, pod Ready"
kc -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:$POD_SECURITY
      containers:
        - name: db
          image: registry.k8s.io/pause:3.10
          volumeMounts: [{name: data, mountPath: /data}]
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 32Mi}}$CONTAINER_SECURITY
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        storageClassName: standard
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
EOF
until_ok 60 sh -c "kubectl --kubeconfig '$KUBECONFIG_FILE' -n '$NS' get pvc data-db-0 -o jsonpath='{.status.phase}' | grep -qx Bound" \
  || fail "$(kc -n "$NS" get pvc,pods 2>&1; kc -n "$NS" get events 2>&1 | tail -5)"
until_ok 60 kc -n "$NS" wait --for=condition=Ready pod/db-0 --timeout=5s || fail "$(kc -n "$NS" get pods 2>&1)"
kc -n "$NS" wait --for=jsonpath='{.status.readyReplicas}'=1 statefulset/db --timeout=30s >/dev/null \
  || fail "statefulset not ready"
ok

step "RBAC: ServiceAccount with a Role (impersonated + own token)"
kc -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata:
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: configmap-reader
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: $NS}]
EOF
sa="system:serviceaccount:$NS:reader"
[ "$(kc -n "$NS" auth can-i list configmaps --as="$sa")" = yes ] || fail "reader cannot list configmaps"
[ "$(kc -n "$NS" auth can-i get secrets --as="$sa" || true)" = no ] || fail "reader can get secrets"
[ "$(kc -n "$NS" auth can-i create configmaps --as="$sa" || true)" = no ] || fail "reader can create configmaps"
[ "$(kc -n default auth can-i list configmaps --as="$sa" || true)" = no ] || fail "reader can list configmaps in default"
token="$(kc -n "$NS" create token reader --duration=10m)"
kc --token="$token" -n "$NS" get configmaps kube-root-ca.crt >/dev/null \
  || fail "the ServiceAccount's own token cannot read configmaps"
out="$(kc --token="$token" -n "$NS" get secrets 2>&1 || true)"
grep -q Forbidden <<<"$out" || fail "the ServiceAccount's own token was not refused secrets: $out"
ok

step "foreground deletion through the garbage collector"
kc -n "$NS" delete deployment web --cascade=foreground --timeout=60s >/dev/null || fail "delete failed"
[ -z "$(kc -n "$NS" get pods -l app=web -o name)" ] || fail "pods of web left behind"
ok

if [ "$keep" = 0 ]; then
  step "namespace deletion finalized"
  kc delete namespace "$NS" --timeout=90s >/dev/null || fail "namespace $NS not deleted"
  ok
fi
echo "[smoke] all checks passed"
