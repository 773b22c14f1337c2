#!/usr/bin/env bash
# A real, local Kubernetes control plane for the `local` stack, without any container runtime:
# etcd + kube-apiserver + kube-controller-manager + kube-scheduler, built from Go modules, and
# KWOK simulating the node(s), so pods are scheduled, "run" and become Ready (no container is
# ever started). Everything listens on 127.0.0.1 only.
#
# Usage:
#   scripts/cluster.sh build            build the binaries that are missing from the cache
#   scripts/cluster.sh start            build if needed, start every process, bootstrap objects
#   scripts/cluster.sh status           which processes run, API health (exit 1 if not healthy)
#   scripts/cluster.sh stop [--purge]   stop every process it started; --purge also deletes data
#   scripts/cluster.sh kubeconfig       print the kubeconfig path
#   scripts/cluster.sh env              print `export KUBECONFIG=...` for eval
#
# Environment:
#   K8S_PLATFORM_TOOLCHAIN   cache root (default $HOME/.cache/k8s-platform/toolchain); binaries
#                            go to <root>/cluster-<kubernetes version>/
#   K8S_PLATFORM_CLUSTER_DIR state dir (default <repo>/.state/cluster; gitignored)
#   CLUSTER_BUILD_DIR        scratch dir for the wrapper modules (default: fresh dir under $TMPDIR)
#   CLUSTER_ETCD_PORT, CLUSTER_ETCD_PEER_PORT, CLUSTER_API_PORT, CLUSTER_KCM_PORT,
#   CLUSTER_SCHED_PORT, CLUSTER_KWOK_PORT    ports (defaults 23790 23800 6443 10257 10259 10247)
#   CLUSTER_START_TIMEOUT    seconds to wait for each readiness step (default 120)
#   CLUSTER_PV_COUNT         hostPath PersistentVolumes per StorageClass (default 40)
#   CLUSTER_ETCD_UNSAFE_NO_FSYNC  true: etcd skips fsync (faster, loses data on a crash; default false)
set -euo pipefail

# ----------------------------------------------------------------------------
# Versions: the one place to change them.
# ----------------------------------------------------------------------------
K8S_VERSION=v1.33.13          # k8s.io/kubernetes
K8S_STAGING_VERSION=v0.33.13  # published staging modules (k8s.io/api, ...), same minor
ETCD_VERSION=v3.5.35          # go.etcd.io/etcd/server/v3
KWOK_VERSION=v0.8.0           # sigs.k8s.io/kwok
# ----------------------------------------------------------------------------

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
ASSETS_DIR="$SCRIPT_DIR/cluster"
CACHE_ROOT="${K8S_PLATFORM_TOOLCHAIN:-$HOME/.cache/k8s-platform/toolchain}"
BIN_DIR="$CACHE_ROOT/cluster-${K8S_VERSION#v}"
STATE_DIR="${K8S_PLATFORM_CLUSTER_DIR:-$REPO_DIR/.state/cluster}"

ETCD_PORT="${CLUSTER_ETCD_PORT:-23790}"
ETCD_PEER_PORT="${CLUSTER_ETCD_PEER_PORT:-23800}"
API_PORT="${CLUSTER_API_PORT:-6443}"
KCM_PORT="${CLUSTER_KCM_PORT:-10257}"
SCHED_PORT="${CLUSTER_SCHED_PORT:-10259}"
KWOK_PORT="${CLUSTER_KWOK_PORT:-10247}"
TIMEOUT="${CLUSTER_START_TIMEOUT:-120}"
PV_COUNT="${CLUSTER_PV_COUNT:-40}"
SERVICE_CIDR=10.96.0.0/12     # the `kubernetes` Service gets 10.96.0.1 (apiServerCidrs default)
CLUSTER_NAME=k8s-platform-local
NODE_NAMES=(kwok-node-0)

COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

version_of() {
  case "$1" in
    etcd) echo "$ETCD_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    *) echo "$K8S_VERSION" ;;
  esac
}

# A binary is cached when it exists and its stamp names the wanted version.
is_cached() {
  [ -x "$BIN_DIR/$1" ] && [ "$(cat "$BIN_DIR/$1.version" 2>/dev/null)" = "$(version_of "$1")" ]
}

# ============================================================================
# build
# ============================================================================
need_go() {
  command -v go >/dev/null || die "go is not on PATH (needed to build the cluster binaries)"
}

# Build one main package of a prepared wrapper module into the cache, timing it.
go_build_into_cache() { # name wrapper-dir package ldflags
  local name="$1" dir="$2" pkg="$3" ldflags="$4" t0
  t0="$(now)"
  log "building $name $(version_of "$name") ..."
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" \
      -o "$BIN_DIR/$name.tmp" "$pkg") || die "go build of $name failed (wrapper module: $dir)"
  mv -f "$BIN_DIR/$name.tmp" "$BIN_DIR/$name"
  version_of "$name" >"$BIN_DIR/$name.version"
  BUILD_TIMES+=("$name $(elapsed "$t0")s")
  log "built $name in $(elapsed "$t0")s"
}

mod_path() { # module@version -> path of its go.mod in the module cache
  GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p'
}

build_kubernetes() { # only the missing ones among the three kube binaries
  local missing=() c
  for c in kube-apiserver kube-controller-manager kube-scheduler; do is_cached "$c" || missing+=("$c"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  local dir="$WORK/kubernetes" gomod t0 go_line
  mkdir -p "$dir"
  t0="$(now)"
  log "preparing the kubernetes wrapper module (k8s.io/kubernetes $K8S_VERSION) ..."
  gomod="$(mod_path "k8s.io/kubernetes@$K8S_VERSION")"
  [ -f "$gomod" ] || die "cannot download k8s.io/kubernetes@$K8S_VERSION from the module proxy"
  go_line="$(grep -m1 '^go ' "$gomod")"
  {
    echo "module k8s-platform.local/cluster-build/kubernetes"
    echo
    echo "$go_line"
    # keep the GODEBUG defaults Kubernetes ships with
    grep '^godebug ' "$gomod" || true
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    # every staging module (k8s.io/X => ./staging/src/k8s.io/X) -> its published version
    sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/.*#\t\1 => \1 '"$K8S_STAGING_VERSION"'#p' "$gomod"
    echo ")"
  } >"$dir/go.mod"
  grep -q 'k8s.io/api => k8s.io/api' "$dir/go.mod" || die "no staging replaces found in $gomod"
  cat >"$dir/tools.go" <<'EOF'
//go:build tools

// Package tools only pins the main packages built from this wrapper module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
EOF
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy) || die "go mod tidy failed in $dir"
  BUILD_TIMES+=("kubernetes-module-prep $(elapsed "$t0")s")
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local date; date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local ld="" pkgpath
  for pkgpath in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkgpath.gitVersion=$K8S_VERSION -X $pkgpath.gitMajor=1 -X $pkgpath.gitMinor=$minor"
    ld+=" -X $pkgpath.gitTreeState=clean -X $pkgpath.buildDate=$date"
  done
  for c in "${missing[@]}"; do
    go_build_into_cache "$c" "$dir" "k8s.io/kubernetes/cmd/$c" "$ld"
  done
}

build_etcd() {
  is_cached etcd && return 0
  local dir="$WORK/etcd"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<EOF
module k8s-platform.local/cluster-build/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
  cat >"$dir/main.go" <<'EOF'
// Command etcd runs the etcd server of the go.etcd.io/etcd/server/v3 module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy) || die "go mod tidy failed in $dir"
  go_build_into_cache etcd "$dir" . "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"
}

build_kwok() {
  is_cached kwok && return 0
  local dir="$WORK/kwok"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<EOF
module k8s-platform.local/cluster-build/kwok

go 1.26.0

require sigs.k8s.io/kwok $KWOK_VERSION
EOF
  cat >"$dir/tools.go" <<'EOF'
//go:build tools

// Package tools only pins the main package built from this wrapper module.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
EOF
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy) || die "go mod tidy failed in $dir"
  go_build_into_cache kwok "$dir" sigs.k8s.io/kwok/cmd/kwok \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_VERSION"
}

cmd_build() {
  local c all=1
  for c in "${COMPONENTS[@]}"; do is_cached "$c" || all=0; done
  if [ "$all" = 1 ]; then
    log "all binaries cached in $BIN_DIR"
    return 0
  fi
  need_go
  mkdir -p "$BIN_DIR"
  WORK="${CLUSTER_BUILD_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/k8s-platform-cluster-build.XXXXXX")}"
  mkdir -p "$WORK"
  BUILD_TIMES=()
  local t0; t0="$(now)"
  # one at a time: the machine has few cores
  build_etcd
  build_kwok
  build_kubernetes
  [ -n "${CLUSTER_BUILD_DIR:-}" ] || rm -rf "$WORK"
  log "build times:"
  for c in "${BUILD_TIMES[@]}"; do log "  $c"; done
  log "total $(elapsed "$t0")s; binaries in $BIN_DIR"
}

# ============================================================================
# start / status / stop
# ============================================================================
PID_DIR="$STATE_DIR/pids"
LOG_DIR="$STATE_DIR/logs"
PKI_DIR="$STATE_DIR/pki"
KUBECONFIG_FILE="$STATE_DIR/kubeconfig"

need() { command -v "$1" >/dev/null || die "$1 is not on PATH ($2)"; }

# The pid of a component if it is running, from its pid file, checked against /proc so that
# a stale pid file never makes us signal an unrelated process.
running_pid() {
  local f="$PID_DIR/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$BIN_DIR/$1" ] || return 1
  echo "$pid"
}

# Wait until a command succeeds, or fail with the component's log tail.
wait_for() { # what component timeout command...
  local what="$1" comp="$2" timeout="$3"; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$comp" ] && ! running_pid "$comp" >/dev/null; then
      tail -n 25 "$LOG_DIR/$comp.log" >&2 2>/dev/null || true
      die "$comp exited while waiting for $what (log: $LOG_DIR/$comp.log)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      [ -z "$comp" ] || tail -n 25 "$LOG_DIR/$comp.log" >&2 2>/dev/null || true
      die "timed out after ${timeout}s waiting for $what${comp:+ (log: $LOG_DIR/$comp.log)}"
    fi
    sleep 0.5
  done
}

launch() { # component args...
  local comp="$1"; shift
  local pid
  if pid="$(running_pid "$comp")"; then
    log "$comp already running (pid $pid)"
    return 0
  fi
  # own session, no controlling terminal, stdin closed: survives the calling shell, and
  # `stop` signals exactly this pid
  setsid "$BIN_DIR/$comp" "$@" </dev/null >>"$LOG_DIR/$comp.log" 2>&1 &
  echo $! >"$PID_DIR/$comp.pid"
  log "started $comp (pid $!, log $LOG_DIR/$comp.log)"
}

https_ok() { # url [cacert]: body must be "ok"; without a CA the self-signed cert is not checked
  local tls=(-k)
  [ -z "${2:-}" ] || tls=(--cacert "$2")
  [ "$(curl -sS --max-time 3 "${tls[@]}" "$1" 2>/dev/null)" = ok ]
}

ensure_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  local d="$PKI_DIR"
  if [ ! -f "$d/ca.crt" ]; then
    log "generating the cluster CA"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" \
      -days 3650 -subj "/CN=k8s-platform-local-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  fi
  if [ ! -f "$d/apiserver.crt" ]; then
    log "generating the API server serving certificate"
    cat >"$d/apiserver.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1
EOF
    openssl req -newkey rsa:2048 -nodes -keyout "$d/apiserver.key" -out "$d/apiserver.csr" \
      -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -days 3650 -extfile "$d/apiserver.ext" -out "$d/apiserver.crt" 2>/dev/null
    rm -f "$d/apiserver.csr"
  fi
  if [ ! -f "$d/sa.key" ]; then
    log "generating the service-account signing key"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/sa.key" 2>/dev/null
    openssl pkey -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  fi
  if [ ! -f "$d/tokens.csv" ]; then
    log "generating the static tokens"
    local u
    : >"$d/tokens.csv"
    # token,user,uid,"groups"
    for u in admin kwok; do
      echo "$(openssl rand -hex 24),$u,$u,\"system:masters\"" >>"$d/tokens.csv"
    done
    for u in system:kube-controller-manager system:kube-scheduler; do
      echo "$(openssl rand -hex 24),$u,$u" >>"$d/tokens.csv"
    done
  fi
  chmod 600 "$d"/*.key "$d/tokens.csv"
}

token_of() { awk -F, -v u="$1" '$2 == u { print $1 }' "$PKI_DIR/tokens.csv"; }

write_kubeconfig() { # file user
  local file="$1" user="$2" ca
  ca="$(base64 -w0 <"$PKI_DIR/ca.crt")"
  umask 077
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $ca
users:
- name: $CLUSTER_NAME-$user
  user:
    token: $(token_of "$user")
contexts:
- name: $CLUSTER_NAME
  context:
    cluster: $CLUSTER_NAME
    user: $CLUSTER_NAME-$user
current-context: $CLUSTER_NAME
EOF
  mv -f "$file.tmp" "$file"
}

kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# Nodes, StorageClasses, the PersistentVolume pool, namespaces and DNS stand-ins.
bootstrap_manifest() {
  local i n zone
  i=0
  for n in "${NODE_NAMES[@]}"; do
    zone="local-$(printf "\\x$(printf %x $((97 + i)))")"
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $n
  labels:
    kubernetes.io/hostname: $n
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node-role.kubernetes.io/worker: ""
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: $zone
    type: kwok
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
spec: {}
status:
  capacity: {cpu: "64", memory: 256Gi, pods: "500", ephemeral-storage: 1Ti}
  allocatable: {cpu: "64", memory: 256Gi, pods: "500", ephemeral-storage: 1Ti}
EOF
    i=$((i + 1))
  done
  local sc
  for sc in standard ssd; do
    cat <<EOF
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $sc
  annotations:
    storageclass.kubernetes.io/is-default-class: "$([ "$sc" = standard ] && echo true || echo false)"
  labels:
    k8s-platform.local/cluster: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
  done
  # The pool: per class, CLUSTER_PV_COUNT volumes spread over sizes so that a claim binds to a
  # volume close to its request (the binder picks the smallest that fits). Every volume offers
  # ReadWriteOnce and ReadWriteMany. hostPath only: nothing ever mounts them (no kubelet).
  local sizes=(1Gi 1Gi 1Gi 1Gi 2Gi 2Gi 2Gi 5Gi 5Gi 10Gi 10Gi 20Gi 20Gi 50Gi 100Gi 500Gi)
  local k size
  for sc in standard ssd; do
    for ((k = 0; k < PV_COUNT; k++)); do
      size="${sizes[$((k % ${#sizes[@]}))]}"
      cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-$sc-$(printf %03d "$k")
  labels:
    k8s-platform.local/pv-pool: "true"
    k8s-platform.local/storage-class: $sc
spec:
  storageClassName: $sc
  capacity: {storage: $size}
  accessModes: [ReadWriteOnce, ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  volumeMode: Filesystem
  hostPath:
    path: $STATE_DIR/volumes/$sc/$(printf %03d "$k")
    type: DirectoryOrCreate
EOF
    done
  done
  cat <<EOF
---
apiVersion: v1
kind: Namespace
metadata:
  name: ingress-nginx
  labels:
    kubernetes.io/metadata.name: ingress-nginx
    app.kubernetes.io/name: ingress-nginx
---
# DNS stand-in: the Service that pods' DNS and NetworkPolicies refer to (no CoreDNS runs:
# no pod ever executes here).
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
    kubernetes.io/name: CoreDNS
spec:
  clusterIP: 10.96.0.10
  selector:
    k8s-app: kube-dns
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
EOF
}

cmd_start() {
  need curl "for health checks"
  need openssl "for the certificates"
  need kubectl "for bootstrapping the cluster objects"
  need setsid "util-linux"
  local t0; t0="$(now)"
  cmd_build
  mkdir -p "$PID_DIR" "$LOG_DIR" "$STATE_DIR/etcd" "$STATE_DIR/kcm" "$STATE_DIR/scheduler"
  local sc k
  for sc in standard ssd; do
    for ((k = 0; k < PV_COUNT; k++)); do mkdir -p "$STATE_DIR/volumes/$sc/$(printf %03d "$k")"; done
  done
  ensure_pki
  write_kubeconfig "$KUBECONFIG_FILE" admin
  write_kubeconfig "$STATE_DIR/kcm/kubeconfig" system:kube-controller-manager
  write_kubeconfig "$STATE_DIR/scheduler/kubeconfig" system:kube-scheduler
  write_kubeconfig "$STATE_DIR/kwok.kubeconfig" kwok

  local etcd_url="http://127.0.0.1:$ETCD_PORT"
  launch etcd --name=local --data-dir="$STATE_DIR/etcd/data" \
    --listen-client-urls="$etcd_url" --advertise-client-urls="$etcd_url" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="local=http://127.0.0.1:$ETCD_PEER_PORT" \
    --quota-backend-bytes=4294967296 --auto-compaction-retention=1h \
    --unsafe-no-fsync="${CLUSTER_ETCD_UNSAFE_NO_FSYNC:-false}" --log-level=warn
  wait_for "etcd health" etcd "$TIMEOUT" sh -c "curl -sS --max-time 3 $etcd_url/health | grep -q '\"health\":\"true\"'"

  launch kube-apiserver \
    --etcd-servers="$etcd_url" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --endpoint-reconciler-type=none \
    --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
    --client-ca-file="$PKI_DIR/ca.crt" \
    --token-auth-file="$PKI_DIR/tokens.csv" \
    --authorization-mode=RBAC \
    --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,StorageObjectInUseProtection,PersistentVolumeClaimResize,ResourceQuota,PodSecurity,Priority,RuntimeClass,MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook \
    --allow-privileged=false \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-node-port-range=30000-32767 \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI_DIR/sa.pub" \
    --service-account-signing-key-file="$PKI_DIR/sa.key" \
    --profiling=false --event-ttl=1h --v=1
  wait_for "kube-apiserver /readyz" kube-apiserver "$TIMEOUT" \
    https_ok "https://127.0.0.1:$API_PORT/readyz" "$PKI_DIR/ca.crt"

  launch kube-controller-manager \
    --kubeconfig="$STATE_DIR/kcm/kubeconfig" \
    --authentication-kubeconfig="$STATE_DIR/kcm/kubeconfig" \
    --authorization-kubeconfig="$STATE_DIR/kcm/kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$STATE_DIR/kcm" \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI_DIR/sa.key" \
    --root-ca-file="$PKI_DIR/ca.crt" \
    --cluster-signing-cert-file="$PKI_DIR/ca.crt" --cluster-signing-key-file="$PKI_DIR/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --controllers='*' --profiling=false --v=1
  launch kube-scheduler \
    --kubeconfig="$STATE_DIR/scheduler/kubeconfig" \
    --authentication-kubeconfig="$STATE_DIR/scheduler/kubeconfig" \
    --authorization-kubeconfig="$STATE_DIR/scheduler/kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --cert-dir="$STATE_DIR/scheduler" \
    --leader-elect=false --profiling=false --v=1
  wait_for "kube-controller-manager /healthz" kube-controller-manager "$TIMEOUT" \
    https_ok "https://127.0.0.1:$KCM_PORT/healthz"
  wait_for "kube-scheduler /healthz" kube-scheduler "$TIMEOUT" \
    https_ok "https://127.0.0.1:$SCHED_PORT/healthz"

  log "creating nodes, storage classes, $((PV_COUNT * 2)) persistent volumes, namespaces"
  bootstrap_manifest >"$STATE_DIR/bootstrap.yaml"
  kc apply --server-side --force-conflicts --field-manager=k8s-platform-cluster \
    -f "$STATE_DIR/bootstrap.yaml" >"$LOG_DIR/bootstrap.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/bootstrap.log" >&2; die "bootstrap objects failed (log: $LOG_DIR/bootstrap.log)"; }

  launch kwok --kubeconfig="$STATE_DIR/kwok.kubeconfig" \
    --config="$ASSETS_DIR/kwok-stages.yaml" \
    --manage-all-nodes=true --node-ip=127.0.0.1 --cidr=10.244.0.0/16 \
    --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:$KWOK_PORT" --v=INFO
  wait_for "nodes Ready (kwok)" kwok "$TIMEOUT" kc wait --for=condition=Ready node --all --timeout=5s
  # the controllers' first work: the default ServiceAccount and the root CA ConfigMap, which
  # every new pod needs
  wait_for "default ServiceAccount" kube-controller-manager "$TIMEOUT" kc -n default get serviceaccount default
  wait_for "kube-root-ca.crt ConfigMap" kube-controller-manager "$TIMEOUT" kc -n default get configmap kube-root-ca.crt

  log "cluster ready in $(elapsed "$t0")s"
  log "  kubeconfig: $KUBECONFIG_FILE"
  log "  API server: https://127.0.0.1:$API_PORT (Kubernetes $K8S_VERSION, kubernetes Service 10.96.0.1)"
  log "  try: kubectl --kubeconfig $KUBECONFIG_FILE get nodes"
}

cmd_status() {
  local c pid ok=0
  printf '%-24s %-8s %s\n' COMPONENT PID STATE
  for c in "${COMPONENTS[@]}"; do
    if pid="$(running_pid "$c")"; then
      printf '%-24s %-8s %s\n' "$c" "$pid" running
    else
      printf '%-24s %-8s %s\n' "$c" - stopped
      ok=1
    fi
  done
  if [ -f "$PKI_DIR/ca.crt" ] && https_ok "https://127.0.0.1:$API_PORT/readyz" "$PKI_DIR/ca.crt"; then
    echo "API server: https://127.0.0.1:$API_PORT ready"
    kc get nodes --no-headers 2>/dev/null | awk '{ printf "node %s: %s\n", $1, $2 }'
  else
    echo "API server: https://127.0.0.1:$API_PORT not ready"
    ok=1
  fi
  echo "kubeconfig: $KUBECONFIG_FILE"
  return $ok
}

# Processes running one of our cached binaries with this state dir on their command line.
stray_pids() {
  local d pid exe
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    exe="$(readlink "$d/exe" 2>/dev/null)" || continue
    case "$exe" in "$BIN_DIR"/*) ;; *) continue ;; esac
    tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF -- "$STATE_DIR" && echo "$pid"
  done
  return 0
}

# Send SIGTERM to the running ones among the given components, wait for all of them to exit
# (SIGKILL after 10 s), then drop their pid files.
stop_group() {
  local c pid i
  local -A pids=() t1=()
  for c in "$@"; do
    if pid="$(running_pid "$c")"; then
      pids[$c]="$pid"; t1[$c]="$(now)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for c in "${!pids[@]}"; do
    pid="${pids[$c]}"
    for ((i = 0; i < 100; i++)); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    if [ -d "/proc/$pid" ]; then
      log "$c (pid $pid) ignored SIGTERM for 10s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
    log "stopped $c (pid $pid) in $(elapsed "${t1[$c]}")s"
  done
  for c in "$@"; do rm -f "$PID_DIR/$c.pid"; done
}

cmd_stop() {
  local purge=0 t0 pid
  [ "${1:-}" = --purge ] && purge=1
  t0="$(now)"
  # clients first (nothing writes to an API server that is going away), then the API server,
  # then its storage
  stop_group kwok kube-scheduler kube-controller-manager
  stop_group kube-apiserver
  stop_group etcd
  # leftovers whose pid file was lost: our binaries started for this state dir
  for pid in $(stray_pids); do
    log "stopping stray $(readlink "/proc/$pid/exe") (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$purge" = 1 ]; then
    rm -rf "$STATE_DIR"
    log "purged $STATE_DIR"
  fi
  log "stopped in $(elapsed "$t0")s"
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  status) cmd_status ;;
  stop) shift; cmd_stop "$@" ;;
  kubeconfig) echo "$KUBECONFIG_FILE" ;;
  env) echo "export KUBECONFIG=$KUBECONFIG_FILE" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
