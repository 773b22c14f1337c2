#!/usr/bin/env bash
# Build the Pulumi toolchain this project needs, entirely from Go sources:
#   pulumi CLI + pulumi-language-nodejs (bin dir), and the kubernetes, random
#   and kafka resource plugins (installed into the Pulumi plugin cache).
# Upstream Go modules where the module proxy serves them; our own Go programs in tools/
# where it does not (language host; random and kafka providers: offline stand-ins that
# implement only what this project uses). See docs/toolchain.md.
# Nothing prebuilt is downloaded. Results are cached outside the work tree,
# keyed by version, so a warm run only checks files and takes a second or two.
#
# Usage:
#   scripts/toolchain.sh                 build what is missing, report, print the bin dir
#   scripts/toolchain.sh --print-path    same, but progress goes to stderr and stdout
#                                        carries only the bin dir:
#       export PATH="$(scripts/toolchain.sh --print-path):$PATH"
#   scripts/toolchain.sh --only "cli nodejs"   restrict to some pieces
#   scripts/toolchain.sh --keep-going          build every piece it can; exit 1 at the end
#                                              if any failed (default: stop at the first)
#
# Environment:
#   K8S_PLATFORM_TOOLCHAIN   cache root (default $HOME/.cache/k8s-platform/toolchain)
#   PULUMI_HOME              Pulumi's own home; plugins go to $PULUMI_HOME/plugins (default ~/.pulumi)
#   TOOLCHAIN_PIECES         default piece list (same as --only)
#   TOOLCHAIN_GO_VERSION_<PIECE>  (PIECE = NODEJS, KUBERNETES, RANDOM, KAFKA) a Go module
#                            version (tag or pseudo-version) to use instead of resolving the
#                            commit below; needed where the module proxy refuses commit queries.
#                            KUBERNETES defaults to the one pseudo-version the module proxy here
#                            serves (see KUBERNETES_FALLBACK_GO_VERSION); set it to "release" to
#                            build the v4.32.0 commit instead.
#   TOOLCHAIN_NODEJS_HOST_SRC  a local Go module to build as pulumi-language-nodejs instead of
#                            the upstream module (cached under a hash of its sources)
#   TOOLCHAIN_<RANDOM|KAFKA>_SOURCE  "local" (default when tools/pulumi-resource-<name>/ exists):
#                            build our own offline stand-in provider from that directory;
#                            "upstream": build the upstream pulumi-<name> provider module
#                            (refused by the module proxy here as of 2026-11; see docs/toolchain.md)
#   TOOLCHAIN_BUILD_DIR      scratch dir for builds (default: a fresh dir under ${TMPDIR:-/tmp})
set -euo pipefail

# ----------------------------------------------------------------------------
# Versions: the one place to change them.
# ----------------------------------------------------------------------------
PULUMI_VERSION=3.259.0                                        # @pulumi/pulumi; CLI + Node language host
PULUMI_COMMIT=a05d88f24d05726fa3beae771bfdedb0c0c6a94a        # tag pkg/v3.259.0 (language host has no tags)
KUBERNETES_VERSION=4.32.0                                     # @pulumi/kubernetes
KUBERNETES_COMMIT=a03ff6ba58d2f1ea68319dda4b2c982119489c71    # tag v4.32.0 (no provider/ tags)
RANDOM_VERSION=4.21.1                                         # @pulumi/random
RANDOM_COMMIT=f2d8b029d0f708bd14bad9479e016560de9c0b6d        # tag v4.21.1
# kafka: @pulumi/kafka is pinned at 3.13.2, so the engine asks for resource-kafka v3.13.2.
# The source commit of 3.13.2 is not known here; we build 3.13.0, stamp the binary
# honestly as 3.13.0, and install it into the plugin cache under 3.13.2 (see install step).
KAFKA_VERSION=3.13.2                                          # version the engine asks for
KAFKA_BUILD_VERSION=3.13.0                                    # version actually built
KAFKA_COMMIT=b8cddcad34cdae437dbbdbed74159aa37f778197         # tag v3.13.0
# Fork of terraform-plugin-sdk/v2 that the bridged providers (random, kafka) replace in.
TF_PLUGIN_SDK_FORK=github.com/pulumi/terraform-plugin-sdk/v2@v2.0.0-20260318212141-5525259d096b
CLIPBOARD_FORK=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
# Optional: a local Go module implementing the Node language host, built instead of the
# upstream pulumi-language-nodejs module (e.g. where the module proxy refuses that module).
# Used automatically when the repository has tools/pulumi-language-nodejs/go.mod.
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS_DIR="$(cd "$SCRIPT_DIR/.." && pwd)/tools"
NODEJS_HOST_SRC="${TOOLCHAIN_NODEJS_HOST_SRC:-}"
if [ -z "$NODEJS_HOST_SRC" ] && [ -f "$TOOLS_DIR/pulumi-language-nodejs/go.mod" ]; then
  NODEJS_HOST_SRC="$TOOLS_DIR/pulumi-language-nodejs"
fi
# kubernetes: the module proxy here refuses the v4.32.0 commit and serves exactly one
# pseudo-version of provider/v4 (January 2026), whose checksum-database lookup is refused too.
# It is the default; TOOLCHAIN_GO_VERSION_KUBERNETES=release builds the 4.32.0 commit instead.
KUBERNETES_FALLBACK_GO_VERSION=v4.0.0-20260115033456-f47bc2d6f199
TOOLCHAIN_GO_VERSION_KUBERNETES="${TOOLCHAIN_GO_VERSION_KUBERNETES:-$KUBERNETES_FALLBACK_GO_VERSION}"
if [ "$TOOLCHAIN_GO_VERSION_KUBERNETES" = release ]; then
  TOOLCHAIN_GO_VERSION_KUBERNETES=""
elif [ "$TOOLCHAIN_GO_VERSION_KUBERNETES" = "$KUBERNETES_FALLBACK_GO_VERSION" ]; then
  export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi-kubernetes/provider/v4"
fi
# random, kafka: the proxy refuses the upstream provider modules, so by default our own
# offline stand-ins (tools/pulumi-resource-<name>/, Go, implementing only what this project
# uses) are built and installed under the versions the npm SDKs ask for.
source_of() {  # source_of NAME: sets <NAME>_SOURCE to local | upstream
  local upper; upper="$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')"
  local var="TOOLCHAIN_${upper}_SOURCE" v
  v="${!var:-}"
  if [ -z "$v" ]; then
    if [ -f "$TOOLS_DIR/pulumi-resource-$1/go.mod" ]; then v=local; else v=upstream; fi
  fi
  case "$v" in local|upstream) ;; *) echo "toolchain.sh: $var must be local or upstream, not '$v'" >&2; exit 2 ;; esac
  printf -v "${upper}_SOURCE" '%s' "$v"
}
source_of random
source_of kafka
# ----------------------------------------------------------------------------

export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

CACHE_ROOT="${K8S_PLATFORM_TOOLCHAIN:-$HOME/.cache/k8s-platform/toolchain}"
PULUMI_HOME_DIR="${PULUMI_HOME:-$HOME/.pulumi}"
BIN_DIR="$CACHE_ROOT/bin-$PULUMI_VERSION"
ALL_PIECES="cli nodejs kubernetes random kafka"

print_path=0
keep_going=0
pieces="${TOOLCHAIN_PIECES:-$ALL_PIECES}"
while [ $# -gt 0 ]; do
  case "$1" in
    --print-path) print_path=1 ;;
    --keep-going) keep_going=1 ;;
    --only) shift; pieces="${1:?--only needs a piece list}" ;;
    --only=*) pieces="${1#--only=}" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "toolchain.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
for p in $pieces; do
  case " $ALL_PIECES " in *" $p "*) ;; *) echo "toolchain.sh: unknown piece '$p' (pieces: $ALL_PIECES)" >&2; exit 2 ;; esac
done

# All progress goes to stderr, so that --print-path can keep stdout clean.
log() { printf '[toolchain] %s\n' "$*" >&2; }
die() { printf '[toolchain] ERROR: %s\n' "$*" >&2; exit 1; }
want() { case " $pieces " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

need_go() {
  command -v go >/dev/null 2>&1 || die "go is not on PATH; Go >= 1.26 is needed to build the toolchain"
}

mkdir -p "$CACHE_ROOT" "$BIN_DIR"

# One run at a time: a second concurrent run waits here, then finds everything built.
exec 9>"$CACHE_ROOT/.lock"
if ! flock -n 9; then
  log "another toolchain.sh run holds $CACHE_ROOT/.lock; waiting for it..."
  flock 9
fi

BUILD_ROOT=""
# The scratch dir is removed after a successful run and kept (with its logs) after a failure.
cleanup() {
  local rc=$?
  [ -n "$BUILD_ROOT" ] && [ -z "${TOOLCHAIN_BUILD_DIR:-}" ] || return 0
  if [ "$rc" = 0 ] || ! find "$BUILD_ROOT" -mindepth 1 -print -quit | grep -q .; then
    rm -rf "$BUILD_ROOT"
  else
    log "build logs kept in $BUILD_ROOT"
  fi
}
trap cleanup EXIT
# Scratch dir for builds, created on first use (never on a warm run).
ensure_build_root() {
  [ -n "$BUILD_ROOT" ] && return 0
  if [ -n "${TOOLCHAIN_BUILD_DIR:-}" ]; then
    BUILD_ROOT="$TOOLCHAIN_BUILD_DIR"; mkdir -p "$BUILD_ROOT"
  else
    BUILD_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/k8s-platform-toolchain.XXXXXX")"
  fi
}

# Run a build step with its output in a log file; on failure show the tail.
run_logged() {
  local logfile="$1"; shift
  if ! "$@" >>"$logfile" 2>&1; then
    log "command failed: $*"
    log "last lines of $logfile:"
    tail -n 25 "$logfile" | sed 's/^/    /' >&2
    return 1
  fi
}

# Resolve a Go module version: a tag/pseudo-version is used as is; a commit hash is
# resolved through the module proxy. $3 names an override variable.
resolve_go_version() {
  local module="$1" ref="$2" override_var="$3" override
  override="${!override_var:-}"
  if [ -n "$override" ]; then printf '%s\n' "$override"; return 0; fi
  if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then printf '%s\n' "$ref"; return 0; fi
  local out
  if ! out="$(go list -m -json "$module@$ref" 2>&1)"; then
    log "cannot resolve $module@$ref through the Go module proxy ($(go env GOPROXY)):"
    printf '%s\n' "$out" | tail -n 3 | sed 's/^/    /' >&2
    log "set $override_var to a module version the proxy serves (tag or vX.0.0-YYYYMMDDhhmmss-<12 hex>); see docs/toolchain.md"
    return 1
  fi
  printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Version": "\(.*\)",*$/\1/p' | head -n 1
}

# go.mod of a fresh wrapper module.
new_wrapper() {
  local dir="$1" name="$2"
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && go mod init "toolchain.local/$name" >/dev/null 2>&1)
}

elapsed() { echo $(( $(date +%s) - $1 )); }

failed_pieces=""
piece_failed() {
  failed_pieces="$failed_pieces $1"
  [ "$keep_going" = 1 ] || die "piece '$1' failed (use --keep-going to try the others)"
}

# ----------------------------------------------------------------------------
# Pieces
# ----------------------------------------------------------------------------
PULUMI_BIN=""   # the pulumi used to install plugins

build_cli() {
  local out="$CACHE_ROOT/pulumi-$PULUMI_VERSION"
  if [ -x "$out/pulumi" ]; then
    cp_if_newer "$out/pulumi" "$BIN_DIR/pulumi"; PULUMI_BIN="$BIN_DIR/pulumi"; return 0
  fi
  # A pulumi already on PATH at the wanted version is used instead of building.
  local existing
  existing="$(command -v pulumi 2>/dev/null || true)"
  if [ -n "$existing" ] && [ "$(dirname "$existing")" != "$BIN_DIR" ] \
     && [ "$("$existing" version 2>/dev/null || true)" = "v$PULUMI_VERSION" ]; then
    log "cli: using $existing (already v$PULUMI_VERSION)"
    PULUMI_BIN="$existing"; return 0
  fi
  need_go; ensure_build_root
  local start dir logf; start=$(date +%s)
  dir="$BUILD_ROOT/pulumi"; logf="$BUILD_ROOT/pulumi.log"
  log "cli: building pulumi v$PULUMI_VERSION from github.com/pulumi/pulumi/pkg/v3 (log: $logf)"
  new_wrapper "$dir" pulumi
  (cd "$dir" && go mod edit \
      -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
      -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" \
      -replace="github.com/atotto/clipboard=$CLIPBOARD_FORK") || return 1
  (cd "$dir" && run_logged "$logf" env CGO_ENABLED=0 go build -mod=mod -trimpath \
      -tags osusergo,grpcnotrace \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$dir/out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) || return 1
  mkdir -p "$out" && mv "$dir/out/pulumi" "$out/pulumi" || return 1
  cp_if_newer "$out/pulumi" "$BIN_DIR/pulumi"; PULUMI_BIN="$BIN_DIR/pulumi"
  log "cli: built in $(elapsed "$start")s -> $out/pulumi"
}

build_nodejs() {
  if [ -n "$NODEJS_HOST_SRC" ]; then build_nodejs_local; return; fi
  local out="$CACHE_ROOT/pulumi-language-nodejs-$PULUMI_VERSION"
  local module=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
  if [ ! -x "$out/pulumi-language-nodejs" ]; then
    need_go; ensure_build_root
    local start dir logf gover; start=$(date +%s)
    dir="$BUILD_ROOT/nodejs"; logf="$BUILD_ROOT/nodejs.log"
    gover="$(resolve_go_version "$module" "$PULUMI_COMMIT" TOOLCHAIN_GO_VERSION_NODEJS)" || return 1
    log "nodejs: building pulumi-language-nodejs v$PULUMI_VERSION from $module@$gover (log: $logf)"
    new_wrapper "$dir" nodejs
    # Its go.mod replaces pkg/v3 and sdk/v3 with local paths: require the release instead.
    (cd "$dir" && go mod edit \
        -require="$module@$gover" \
        -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
        -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" \
        -replace="github.com/atotto/clipboard=$CLIPBOARD_FORK") || return 1
    (cd "$dir" && run_logged "$logf" env CGO_ENABLED=0 go build -mod=mod -trimpath \
        -tags osusergo,grpcnotrace \
        -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
        -o "$dir/out/pulumi-language-nodejs" "$module") || return 1
    mkdir -p "$out" && mv "$dir/out/pulumi-language-nodejs" "$out/pulumi-language-nodejs" || return 1
    log "nodejs: built in $(elapsed "$start")s -> $out/pulumi-language-nodejs"
  fi
  # Bundled plugins are looked up next to the pulumi executable (and on PATH).
  cp_if_newer "$out/pulumi-language-nodejs" "$BIN_DIR/pulumi-language-nodejs"
}

# A Node language host from a local Go module (NODEJS_HOST_SRC), cached under a hash of
# its sources so that an edit rebuilds it.
build_nodejs_local() {
  local src="$NODEJS_HOST_SRC"
  [ -f "$src/go.mod" ] || die "NODEJS_HOST_SRC=$src has no go.mod"
  local hash; hash="$(src_hash "$src")"
  local out="$CACHE_ROOT/pulumi-language-nodejs-local-$hash"
  if [ ! -x "$out/pulumi-language-nodejs" ]; then
    need_go; ensure_build_root
    local start logf; start=$(date +%s); logf="$BUILD_ROOT/nodejs-local.log"
    log "nodejs: building the language host in $src (sources $hash) (log: $logf)"
    (cd "$src" && run_logged "$logf" env CGO_ENABLED=0 go build -trimpath \
        -ldflags "-X main.version=$PULUMI_VERSION" -o "$BUILD_ROOT/nodejs-local/pulumi-language-nodejs" .) || return 1
    mkdir -p "$out" && mv "$BUILD_ROOT/nodejs-local/pulumi-language-nodejs" "$out/" || return 1
    log "nodejs: built in $(elapsed "$start")s -> $out/pulumi-language-nodejs"
  fi
  cp_if_newer "$out/pulumi-language-nodejs" "$BIN_DIR/pulumi-language-nodejs"
}

# A short hash of a local Go module's sources (Go files, go.mod, go.sum), tests excluded.
src_hash() {
  (cd "$1" && find . -type f \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) -print \
     | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
}

# build_local_provider NAME VERSION: our own stand-in provider from tools/pulumi-resource-NAME,
# stamped VERSION, cached under VERSION and a hash of its sources (an edit rebuilds it), then
# installed as plugin resource-NAME vVERSION.
build_local_provider() {
  local name="$1" version="$2" src="$TOOLS_DIR/pulumi-resource-$1"
  [ -f "$src/go.mod" ] || { log "$name: $src/go.mod not found"; return 1; }
  local hash; hash="$(src_hash "$src")"
  local out="$CACHE_ROOT/$name-$version-local-$hash"
  if [ ! -x "$out/pulumi-resource-$name" ]; then
    need_go; ensure_build_root
    local start logf; start=$(date +%s); logf="$BUILD_ROOT/$name-local.log"
    log "$name: building our stand-in provider in $src (v$version, sources $hash) (log: $logf)"
    (cd "$src" && run_logged "$logf" env CGO_ENABLED=0 go build -trimpath \
        -ldflags "-X main.version=$version" -o "$BUILD_ROOT/$name-local/pulumi-resource-$name" .) || return 1
    mkdir -p "$out" && mv "$BUILD_ROOT/$name-local/pulumi-resource-$name" "$out/" || return 1
    log "$name: built in $(elapsed "$start")s -> $out/pulumi-resource-$name"
  fi
  install_plugin "$name" "$version" "$out/pulumi-resource-$name"
}

# Copy $1 to $2 unless $2 is already the same file content (size+mtime check).
cp_if_newer() {
  if [ ! -e "$2" ] || [ "$1" -nt "$2" ] || [ "$(stat -c %s "$1")" != "$(stat -c %s "$2")" ]; then
    cp -f "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
  fi
}

# provider_stamp RELEASE_STAMP OVERRIDE_VAR: the version a provider binary is stamped
# with and cached under. The release's own version, unless a Go version override is
# set: then the binary is not that release, so it carries the Go (pseudo-)version.
provider_stamp() {
  local release="$1" override_var="$2" override
  override="${!override_var:-}"
  if [ -n "$override" ]; then printf '%s\n' "$override"; else printf '%s\n' "$release"; fi
}

# build_provider NAME MODULE COMMIT OVERRIDE_VAR STAMP
# Provider binaries embed schema-embed.json produced by the cmd dir's generate.go, so
# the module is copied to a writable dir, its go.mod adjusted, generated, then built.
# The binary lands in $CACHE_ROOT/NAME-<STAMP without a leading v>/.
build_provider() {
  local name="$1" module="$2" commit="$3" override_var="$4" stamp="$5"
  local out="$CACHE_ROOT/$name-${stamp#v}"
  [ -x "$out/pulumi-resource-$name" ] && return 0
  need_go; ensure_build_root
  local start dir logf gover src; start=$(date +%s)
  dir="$BUILD_ROOT/$name"; logf="$BUILD_ROOT/$name.log"
  gover="$(resolve_go_version "$module" "$commit" "$override_var")" || return 1
  log "$name: building pulumi-resource-$name (stamped $stamp) from $module@$gover (log: $logf)"
  src="$(go mod download -json "$module@$gover" 2>>"$logf" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  if [ -z "$src" ] || [ ! -d "$src" ]; then
    log "$name: go mod download $module@$gover failed:"; tail -n 5 "$logf" | sed 's/^/    /' >&2; return 1
  fi
  rm -rf "$dir" && mkdir -p "$dir" && cp -R "$src/." "$dir/" && chmod -R u+w "$dir" || return 1
  case "$name" in
    kubernetes)
      # The sdk/v4 replace points into the repository, outside the module zip.
      (cd "$dir" && go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4) || return 1 ;;
    random)
      # The shim is a nested module (replace => ./shim) that the module zip leaves out.
      # It only hands the upstream Terraform provider to the bridge; recreate it.
      mkdir -p "$dir/shim"
      cat >"$dir/shim/go.mod" <<'EOF2'
module github.com/terraform-providers/terraform-provider-random/shim

go 1.24
EOF2
      cat >"$dir/shim/shim.go" <<'EOF2'
// Package shim exposes the upstream random provider to the Pulumi bridge.
package shim

import (
	tfprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream Terraform provider.
func NewProvider() tfprovider.Provider { return upstream.New() }
EOF2
      (cd "$dir" && go mod edit -replace="github.com/hashicorp/terraform-plugin-sdk/v2=$TF_PLUGIN_SDK_FORK") || return 1 ;;
    kafka) : ;;  # keep its replaces (go-getter, terraform-exec, terraform-plugin-sdk fork)
  esac
  local cmd="$dir/cmd/pulumi-resource-$name"
  [ -d "$cmd" ] || { log "$name: $cmd not found in the module"; return 1; }
  if [ -f "$cmd/generate.go" ]; then
    (cd "$cmd" && run_logged "$logf" env VERSION="$stamp" go run -mod=mod ./generate.go) || return 1
  fi
  (cd "$dir" && run_logged "$logf" env CGO_ENABLED=0 go build -mod=mod -trimpath \
      -ldflags "-X $module/pkg/version.Version=$stamp" \
      -o "$dir/out/pulumi-resource-$name" "./cmd/pulumi-resource-$name") || return 1
  mkdir -p "$out" && mv "$dir/out/pulumi-resource-$name" "$out/pulumi-resource-$name" || return 1
  log "$name: built in $(elapsed "$start")s -> $out/pulumi-resource-$name"
}

# provider NAME MODULE COMMIT OVERRIDE_VAR RELEASE_STAMP PLUGIN_VERSION
provider() {
  local name="$1" module="$2" commit="$3" override_var="$4" release_stamp="$5" plugin_version="$6"
  local stamp; stamp="$(provider_stamp "$release_stamp" "$override_var")"
  build_provider "$name" "$module" "$commit" "$override_var" "$stamp" || return 1
  local note=""
  if [ "${stamp#v}" != "$plugin_version" ]; then
    note="$name: NOTE: binary is $name ${stamp#v}, installed as v$plugin_version (the version the SDK asks for)"
  fi
  install_plugin "$name" "$plugin_version" "$CACHE_ROOT/$name-${stamp#v}/pulumi-resource-$name" "$note"
}

# install_plugin NAME VERSION BINARY [NOTE]: copy into the plugin cache unless that very binary
# (same size, same bytes) is already installed there under VERSION; NOTE is logged on install.
install_plugin() {
  local name="$1" version="$2" binary="$3" note="${4:-}"
  local dest="$PULUMI_HOME_DIR/plugins/resource-$name-v$version"
  local installed="$dest/pulumi-resource-$name"
  if [ -x "$installed" ] && [ ! -e "$dest.partial" ] \
     && [ "$(stat -c %s "$installed")" = "$(stat -c %s "$binary")" ] && cmp -s "$installed" "$binary"; then
    return 0
  fi
  [ -n "$note" ] && log "$note"
  [ -n "$PULUMI_BIN" ] || die "no pulumi CLI to install plugins with (include the 'cli' piece)"
  if [ -e "$dest" ]; then
    log "$name: replacing the different resource-$name v$version in $PULUMI_HOME_DIR/plugins"
    "$PULUMI_BIN" plugin rm resource "$name" "$version" --yes >&2 || return 1
  fi
  log "$name: installing $binary as plugin resource-$name v$version"
  "$PULUMI_BIN" plugin install resource "$name" "$version" --file "$binary" >&2 \
    || { log "$name: pulumi plugin install failed"; return 1; }
}

# ----------------------------------------------------------------------------
total_start=$(date +%s)

if want cli; then build_cli || piece_failed cli; fi
if [ -z "$PULUMI_BIN" ]; then
  if [ -x "$BIN_DIR/pulumi" ]; then PULUMI_BIN="$BIN_DIR/pulumi"
  elif command -v pulumi >/dev/null 2>&1; then PULUMI_BIN="$(command -v pulumi)"; fi
fi
if want nodejs; then build_nodejs || piece_failed nodejs; fi
if want kubernetes; then
  provider kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4 "$KUBERNETES_COMMIT" \
    TOOLCHAIN_GO_VERSION_KUBERNETES "v$KUBERNETES_VERSION" "$KUBERNETES_VERSION" || piece_failed kubernetes
fi
if want random; then
  if [ "$RANDOM_SOURCE" = local ]; then
    build_local_provider random "$RANDOM_VERSION" || piece_failed random
  else
    # random's version ldflag has no leading "v" (an empty version panics).
    provider random github.com/pulumi/pulumi-random/provider/v4 "$RANDOM_COMMIT" \
      TOOLCHAIN_GO_VERSION_RANDOM "$RANDOM_VERSION" "$RANDOM_VERSION" || piece_failed random
  fi
fi
if want kafka; then
  if [ "$KAFKA_SOURCE" = local ]; then
    build_local_provider kafka "$KAFKA_VERSION" || piece_failed kafka
  else
    # Built from 3.13.0 and stamped 3.13.0, but installed under 3.13.2: that is the version
    # @pulumi/kafka 3.13.2 asks the engine for, and 3.13.2's source commit is not known here.
    provider kafka github.com/pulumi/pulumi-kafka/provider/v3 "$KAFKA_COMMIT" \
      TOOLCHAIN_GO_VERSION_KAFKA "$KAFKA_BUILD_VERSION" "$KAFKA_VERSION" || piece_failed kafka
  fi
fi

log "done in $(elapsed "$total_start")s; bin dir: $BIN_DIR"
log "use: export PATH=\"$BIN_DIR:\$PATH\" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
if [ -n "$failed_pieces" ]; then
  die "failed pieces:$failed_pieces (see the messages above)"
fi
if [ "$print_path" = 1 ]; then printf '%s\n' "$BIN_DIR"; fi
