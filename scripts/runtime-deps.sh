#!/usr/bin/env bash
# Installs what `npm run test:runtime` runs: the real database servers as Debian packages (no
# containers) and shellcheck. Idempotent: a second run installs nothing. Needs root (CI runs as root).
#
#   postgresql-15   server binaries in /usr/lib/postgresql/15/bin (initdb, postgres, pg_basebackup, pg_dump, pg_restore)
#   redis-server    redis-server and redis-cli (Debian 12: Redis 7.0)
#   redis-sentinel  the sentinel binary
#   mariadb-server  mariadbd (MariaDB 10.11): the server the MySQL backup/restore runtime test dumps and restores
#   mariadb-client  mysqldump and mysql, the clients backup.sh and restore.sh call (MariaDB's; the image runs mysql:8.4's)
#   nginx-light     nginx: tests the CDN's generated nginx.conf and serves files with it
#   prometheus-alertmanager  amtool (/usr/bin/amtool): check-config and routes test on the generated alertmanager.yml
#   openjdk-17-jre-headless, maven  java and mvn: the Kafka brokers' start script runs a real broker from
#                   Apache Kafka's jars, which scripts/kafka-broker.sh fetches from Maven Central
#   sqlite3         the sqlite3 shell: SQLite backups (.backup) and restores (.restore)
# and builds promtool from the Prometheus Go module at the images' version (Debian's promtool is built
# without the Kubernetes service discovery every generated config uses), cached outside the work tree:
#   scripts/runtime-deps.sh --promtool-path   prints the promtool binary's path (after building it)
# and builds otelcol-validate from tools/otelcol-validate (an OpenTelemetry Collector with only the
# components the generated collector config uses, at the collector image's version; its go.sum pins
# every module, so the build is -mod=readonly), cached the same way:
#   scripts/runtime-deps.sh --otelcol-path    prints the otelcol-validate binary's path (after building it)
#   (and the linter) checks the scripts that run inside the database pods
set -euo pipefail

PACKAGES=(postgresql-15 postgresql-client-15 redis-server redis-sentinel redis-tools mariadb-server mariadb-client nginx-light prometheus-alertmanager shellcheck openjdk-17-jre-headless maven sqlite3)
PROMETHEUS_VERSION=2.54.1       # as prom/prometheus:v2.54.1 in the components
PROMETHEUS_GO_VERSION=v0.54.1   # its Go module version
PROMTOOL_DIR="${K8S_PLATFORM_TOOLCHAIN:-$HOME/.cache/k8s-platform/toolchain}/promtool-$PROMETHEUS_VERSION"
OTELCOL_VERSION=0.111.0         # as otel/opentelemetry-collector-contrib:0.111.0; tools/otelcol-validate/go.mod's modules
OTELCOL_DIR="${K8S_PLATFORM_TOOLCHAIN:-$HOME/.cache/k8s-platform/toolchain}/otelcol-validate-$OTELCOL_VERSION"
OTELCOL_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/otelcol-validate"

# A wrapper module: `go install` refuses a module with replace directives, so the two it has
# (klog -> klog-gokit) are repeated here.
build_promtool() {
  [ -x "$PROMTOOL_DIR/promtool" ] && return 0
  command -v go >/dev/null 2>&1 || { echo "runtime-deps: go is needed to build promtool" >&2; return 1; }
  local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/k8s-platform-promtool.XXXXXX")"
  echo "runtime-deps: building promtool $PROMETHEUS_GO_VERSION (log: $dir/build.log)" >&2
  (cd "$dir" && go mod init toolchain.local/promtool >/dev/null 2>&1 && go mod edit \
      -require="github.com/prometheus/prometheus@$PROMETHEUS_GO_VERSION" \
      -replace=k8s.io/klog=github.com/simonpasquier/klog-gokit@v0.3.0 \
      -replace=k8s.io/klog/v2=github.com/simonpasquier/klog-gokit/v3@v3.3.0 \
    && CGO_ENABLED=0 go build -mod=mod -trimpath -o "$dir/promtool" \
      -ldflags "-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" \
      github.com/prometheus/prometheus/cmd/promtool >"$dir/build.log" 2>&1) \
    || { tail -n 20 "$dir/build.log" >&2; return 1; }
  mkdir -p "$PROMTOOL_DIR" && mv "$dir/promtool" "$PROMTOOL_DIR/promtool" && rm -rf "$dir"
}
# Built in a copy of tools/otelcol-validate outside the work tree, so no build output lands in it.
build_otelcol() {
  [ -x "$OTELCOL_DIR/otelcol-validate" ] && return 0
  command -v go >/dev/null 2>&1 || { echo "runtime-deps: go is needed to build otelcol-validate" >&2; return 1; }
  local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/k8s-platform-otelcol.XXXXXX")"
  echo "runtime-deps: building otelcol-validate $OTELCOL_VERSION (log: $dir/build.log)" >&2
  cp "$OTELCOL_SRC/main.go" "$OTELCOL_SRC/go.mod" "$OTELCOL_SRC/go.sum" "$dir/"
  (cd "$dir" && go build -mod=readonly -trimpath -o "$dir/otelcol-validate" . >"$dir/build.log" 2>&1) \
    || { tail -n 20 "$dir/build.log" >&2; return 1; }
  mkdir -p "$OTELCOL_DIR" && mv "$dir/otelcol-validate" "$OTELCOL_DIR/otelcol-validate" && rm -rf "$dir"
}
if [ "${1:-}" = --otelcol-path ]; then
  build_otelcol >&2
  printf '%s\n' "$OTELCOL_DIR/otelcol-validate"
  exit 0
fi
if [ "${1:-}" = --promtool-path ]; then
  build_promtool >&2
  printf '%s\n' "$PROMTOOL_DIR/promtool"
  exit 0
fi
build_promtool
build_otelcol

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "runtime-deps: all installed (${PACKAGES[*]})"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "runtime-deps: missing ${missing[*]}; run this script as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# --no-install-recommends: no cluster is created and no service is started by the packages we need.
apt-get install -y --no-install-recommends "${missing[@]}"
# The Debian packages start their own servers on the default ports when a service manager runs;
# the tests start their own processes on other ports and never use these.
echo "runtime-deps: installed ${missing[*]}"
