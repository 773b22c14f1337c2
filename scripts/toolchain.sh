#!/usr/bin/env bash
# Build the Pulumi toolchain this project needs, entirely from Go sources:
#   pulumi CLI + pulumi-language-nodejs (bin dir), and the kubernetes, random
#   and kafka resource plugins (installed into the Pulumi plugin cache).
# Every piece is upstream code. The CLI and the kubernetes provider come from Go modules the
# module proxy serves; the Node language host and the random and kafka providers come from
# their upstream release sources kept in ../shared/upstream/ (the proxy refuses those modules),
# unpacked into the scratch dir, never into the work tree. See docs/toolchain.md.
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
#   K8S_PLATFORM_UPSTREAM    dir holding the upstream source archives (default <repo>/../shared/upstream)
#   PULUMI_HOME              Pulumi's own home; plugins go to $PULUMI_HOME/plugins (default ~/.pulumi)
#   TOOLCHAIN_PIECES         default piece list (same as --only)
#   TOOLCHAIN_GO_VERSION_KUBERNETES  a Go module version (tag or pseudo-version) of
#                            pulumi-kubernetes/provider/v4 to build; defaults to the one
#                            pseudo-version the module proxy here serves (see
#                            KUBERNETES_FALLBACK_GO_VERSION); "release" builds the v4.32.0 commit.
#   TOOLCHAIN_BUILD_DIR      scratch dir for builds (default: a fresh dir under ${TMPDIR:-/tmp})
set -euo pipefail

# ----------------------------------------------------------------------------
# Versions: the one place to change them.
# ----------------------------------------------------------------------------
PULUMI_VERSION=3.259.0                                        # @pulumi/pulumi; CLI + Node language host
KUBERNETES_VERSION=4.32.0                                     # @pulumi/kubernetes
KUBERNETES_COMMIT=a03ff6ba58d2f1ea68319dda4b2c982119489c71    # tag v4.32.0 (no provider/ tags)
RANDOM_VERSION=4.21.1                                         # @pulumi/random
# kafka: @pulumi/kafka is pinned at 3.13.2 (the npm registry has only 3.8.0 and 3.13.2), so the
# engine asks for resource-kafka v3.13.2. 3.13.x pins a terraform bridge the module proxy refuses;
# 3.12.3 builds, and 3.12.3 -> 3.13.x changes only schema doc strings and go.mod. We build 3.12.3,
# stamp the binary honestly as 3.12.3 and install it under 3.13.2 (see the install step).
KAFKA_VERSION=3.13.2                                          # version the engine asks for
KAFKA_BUILD_VERSION=3.12.3                                    # version actually built
TF_KAFKA_VERSION=0.13.1                                       # Mongey/terraform-provider-kafka, bridged
# Upstream source archives (../shared/upstream/README.md says where each comes from).
NODEJS_ARCHIVE="pulumi-language-nodejs-v$PULUMI_VERSION.tar.gz"
RANDOM_ARCHIVE="pulumi-random-v$RANDOM_VERSION.tar.gz"
KAFKA_ARCHIVE="pulumi-kafka-v$KAFKA_BUILD_VERSION.tar.gz"
TF_KAFKA_ARCHIVE="terraform-provider-kafka-v$TF_KAFKA_VERSION.tar.gz"
# random 4.21.1 pins pulumi-terraform-bridge v3.135.0, which compiles tfgen into the binary and
# needs two modules the proxy refuses; the bridge and SDK below build the same provider code.
RANDOM_BRIDGE_VERSION=v3.120.0
RANDOM_SDK_VERSION=v3.218.0
# Fork of terraform-plugin-sdk/v2 that the bridged providers replace in (the bridge's own
# 2025-09-23 pin fails to compile: missing GenerateResourceConfig).
TF_PLUGIN_SDK_FORK=github.com/pulumi/terraform-plugin-sdk/v2@v2.0.0-20260318212141-5525259d096b
CLIPBOARD_FORK=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
UPSTREAM_DIR="${K8S_PLATFORM_UPSTREAM:-$(cd "$SCRIPT_DIR/.." && pwd)/../shared/upstream}"
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

# The sha256 prefix of the archives a piece is built from: part of its cache key, so a changed
# archive rebuilds the piece.
archive_key() {
  local f
  for f in "$@"; do
    [ -f "$UPSTREAM_DIR/$f" ] || die "upstream source archive $UPSTREAM_DIR/$f not found (set K8S_PLATFORM_UPSTREAM to the dir holding it)"
  done
  (cd "$UPSTREAM_DIR" && sha256sum "$@") | sha256sum | cut -c1-12
}

# unpack ARCHIVE DIR: a fresh DIR holding the archive's top-level folder.
unpack() {
  rm -rf "$2" && mkdir -p "$2" && tar -xzf "$UPSTREAM_DIR/$1" -C "$2"
}

# The upstream Node language host (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs at
# pkg/v3.259.0), unchanged code; its go.mod points pkg/v3 and sdk/v3 into the pulumi repository,
# so those two replaces are dropped and the v3.259.0 releases required instead.
build_nodejs() {
  local key; key="$(archive_key "$NODEJS_ARCHIVE")" || return 1
  local out="$CACHE_ROOT/pulumi-language-nodejs-$PULUMI_VERSION-$key"
  if [ ! -x "$out/pulumi-language-nodejs" ]; then
    need_go; ensure_build_root
    local start dir logf; start=$(date +%s)
    dir="$BUILD_ROOT/nodejs"; logf="$BUILD_ROOT/nodejs.log"
    log "nodejs: building pulumi-language-nodejs v$PULUMI_VERSION from $NODEJS_ARCHIVE (log: $logf)"
    unpack "$NODEJS_ARCHIVE" "$dir" || return 1
    dir="$dir/pulumi-language-nodejs"
    (cd "$dir" && go mod edit \
        -dropreplace=github.com/pulumi/pulumi/pkg/v3 \
        -dropreplace=github.com/pulumi/pulumi/sdk/v3 \
        -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
        -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION") || return 1
    (cd "$dir" && run_logged "$logf" env CGO_ENABLED=0 go build -mod=mod -trimpath \
        -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
        -o "$dir/out/pulumi-language-nodejs" .) || return 1
    mkdir -p "$out" && mv "$dir/out/pulumi-language-nodejs" "$out/pulumi-language-nodejs" || return 1
    log "nodejs: built in $(elapsed "$start")s -> $out/pulumi-language-nodejs"
  fi
  # Bundled plugins are looked up next to the pulumi executable (and on PATH).
  cp_if_newer "$out/pulumi-language-nodejs" "$BIN_DIR/pulumi-language-nodejs"
}

# build_bridged NAME VERSION MODULE_DIR KEY: generate schema-embed.json (the cmd dir's
# generate.go, as upstream's Makefile does), then build cmd/pulumi-resource-NAME stamped VERSION
# into $CACHE_ROOT/NAME-VERSION-KEY/.
build_bridged() {
  local name="$1" version="$2" dir="$3" key="$4" logf="$BUILD_ROOT/$1.log"
  local module; module="$(awk '$1 == "module" { print $2; exit }' "$dir/go.mod")"
  (cd "$dir/cmd/pulumi-resource-$name" && run_logged "$logf" env VERSION="$version" go run -mod=mod ./generate.go) || return 1
  (cd "$dir" && run_logged "$logf" env CGO_ENABLED=0 go build -mod=mod -trimpath \
      -ldflags "-X $module/pkg/version.Version=$version" \
      -o "$dir/out/pulumi-resource-$name" "./cmd/pulumi-resource-$name") || return 1
  mkdir -p "$CACHE_ROOT/$name-$version-$key" \
    && mv "$dir/out/pulumi-resource-$name" "$CACHE_ROOT/$name-$version-$key/pulumi-resource-$name"
}

# pulumi-random v4.21.1 (provider/ with its nested shim module), on the bridge and SDK above.
build_random() {
  local key; key="$(archive_key "$RANDOM_ARCHIVE")" || return 1
  local out="$CACHE_ROOT/random-$RANDOM_VERSION-$key"
  if [ ! -x "$out/pulumi-resource-random" ]; then
    need_go; ensure_build_root
    local start dir; start=$(date +%s); dir="$BUILD_ROOT/random"
    log "random: building pulumi-resource-random $RANDOM_VERSION from $RANDOM_ARCHIVE (log: $BUILD_ROOT/random.log)"
    unpack "$RANDOM_ARCHIVE" "$dir" || return 1
    dir="$dir/pulumi-random/provider"
    # Only the direct requirements stay: the release's indirect pins (pkg/v3 v3.253.0 among them)
    # would pull the refused modules back in; Go resolves the rest from the bridge and SDK below.
    local gover; gover="$(awk '$1 == "go" { print $2; exit }' "$dir/go.mod")"
    cat >"$dir/go.mod" <<EOF2
module github.com/pulumi/pulumi-random/provider/v4

go $gover

require (
	github.com/pulumi/pulumi-terraform-bridge/v3 $RANDOM_BRIDGE_VERSION
	github.com/pulumi/pulumi/sdk/v3 $RANDOM_SDK_VERSION
	github.com/terraform-providers/terraform-provider-random/shim v0.0.0
)

replace github.com/terraform-providers/terraform-provider-random/shim => ./shim

replace github.com/hashicorp/terraform-plugin-sdk/v2 => ${TF_PLUGIN_SDK_FORK/@/ }
EOF2
    # random's version ldflag has no leading "v" (an empty version panics).
    build_bridged random "$RANDOM_VERSION" "$dir" "$key" || return 1
    log "random: built in $(elapsed "$start")s -> $out/pulumi-resource-random"
  fi
  install_plugin random "$RANDOM_VERSION" "$out/pulumi-resource-random"
}

# pulumi-kafka v3.12.3 with its go.mod unchanged but for Mongey/terraform-provider-kafka, which
# the proxy refuses: replaced by its v0.13.1 source, unpacked beside it.
build_kafka() {
  local key; key="$(archive_key "$KAFKA_ARCHIVE" "$TF_KAFKA_ARCHIVE")" || return 1
  local out="$CACHE_ROOT/kafka-$KAFKA_BUILD_VERSION-$key"
  if [ ! -x "$out/pulumi-resource-kafka" ]; then
    need_go; ensure_build_root
    local start dir; start=$(date +%s); dir="$BUILD_ROOT/kafka"
    log "kafka: building pulumi-resource-kafka $KAFKA_BUILD_VERSION from $KAFKA_ARCHIVE + $TF_KAFKA_ARCHIVE (log: $BUILD_ROOT/kafka.log)"
    unpack "$KAFKA_ARCHIVE" "$dir" || return 1
    tar -xzf "$UPSTREAM_DIR/$TF_KAFKA_ARCHIVE" -C "$dir" || return 1
    (cd "$dir/pulumi-kafka/provider" && go mod edit \
        -replace="github.com/Mongey/terraform-provider-kafka=$dir/terraform-provider-kafka") || return 1
    build_bridged kafka "$KAFKA_BUILD_VERSION" "$dir/pulumi-kafka/provider" "$key" || return 1
    log "kafka: built in $(elapsed "$start")s -> $out/pulumi-resource-kafka"
  fi
  install_plugin kafka "$KAFKA_VERSION" "$out/pulumi-resource-kafka" \
    "kafka: NOTE: binary is pulumi-kafka $KAFKA_BUILD_VERSION, installed as v$KAFKA_VERSION (the version @pulumi/kafka asks for; 3.13.x differs in schema docs and go.mod only)"
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
  # The sdk/v4 replace points into the repository, outside the module zip.
  (cd "$dir" && go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4) || return 1
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
if want random; then build_random || piece_failed random; fi
if want kafka; then build_kafka || piece_failed kafka; fi

log "done in $(elapsed "$total_start")s; bin dir: $BIN_DIR"
log "use: export PATH=\"$BIN_DIR:\$PATH\" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
if [ -n "$failed_pieces" ]; then
  die "failed pieces:$failed_pieces (see the messages above)"
fi
if [ "$print_path" = 1 ]; then printf '%s\n' "$BIN_DIR"; fi
