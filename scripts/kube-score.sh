#!/usr/bin/env bash
# kube-score on the rendered manifests of the dev and prod stacks: fails on any CRITICAL finding
# that kube-score-ignore.yaml does not list (each entry names the object, the check and why).
#
#   scripts/kube-score.sh [stack...]             render each stack (default: dev prod), score, compare
#   scripts/kube-score.sh --no-render [stack...] score the manifests already in rendered/<stack>/
#   scripts/kube-score.sh --update [stack...]    print the unlisted findings as ignore-file entries
#                                                (reason left to write) and the stale entries; exit 0
#   scripts/kube-score.sh --print-path           build kube-score if missing, print the binary's path
#
# kube-score is built from the Go module proxy (github.com/zegl/kube-score at KUBE_SCORE_VERSION)
# into ${K8S_PLATFORM_TOOLCHAIN:-$HOME/.cache/k8s-platform/toolchain}/kube-score-<version>/,
# never into the work tree; a warm run only checks that the binary is there.
# The comparison lives in scripts/lib/kube-score.ts (shared with the engine test).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KUBE_SCORE_VERSION=v1.20.0
CACHE_ROOT="${K8S_PLATFORM_TOOLCHAIN:-$HOME/.cache/k8s-platform/toolchain}"
BIN_DIR="$CACHE_ROOT/kube-score-$KUBE_SCORE_VERSION"
BIN="$BIN_DIR/kube-score"
die() { echo "kube-score.sh: $*" >&2; exit 2; }

build() {
  if [ -x "$BIN" ] && "$BIN" version >/dev/null 2>&1; then
    return 0
  fi
  command -v go >/dev/null || die "go is needed to build kube-score (Go module proxy)"
  echo "kube-score.sh: building github.com/zegl/kube-score@$KUBE_SCORE_VERSION into $BIN_DIR" >&2
  local scratch
  scratch=$(mktemp -d)
  # Its go.mod has no replace lines, so `go install module@version` builds it as released. The
  # version stamp is the release's own ldflag (main.version); the build lands in a scratch dir
  # first so an interrupted build never leaves a half-written binary in the cache.
  (cd "$scratch" && GOBIN="$scratch/bin" CGO_ENABLED=0 \
    go install -trimpath -ldflags "-X main.version=${KUBE_SCORE_VERSION#v}" \
    "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION") >&2
  mkdir -p "$BIN_DIR"
  mv "$scratch/bin/kube-score" "$BIN"
  rm -rf "$scratch"
}

update=0
render=1
stacks=()
for arg in "$@"; do
  case "$arg" in
    --print-path) build; echo "$BIN"; exit 0 ;;
    --update) update=1 ;;
    --no-render) render=0 ;;
    -*) die "unknown option '$arg'; allowed: --update, --no-render, --print-path" ;;
    *) [ -f "$ROOT/Pulumi.$arg.yaml" ] || die "no stack '$arg'; allowed: dev, prod"
       stacks+=("$arg") ;;
  esac
done
[ ${#stacks[@]} -gt 0 ] || stacks=(dev prod)

build
if [ "$render" = 1 ]; then
  # prod names alert receivers whose endpoints are secrets (README "Alerting"): render mode delivers
  # nothing, so unless the caller provides them, placeholders fill the rendered Secret.
  export K8S_PLATFORM_ALERTING_SECRETS="${K8S_PLATFORM_ALERTING_SECRETS:-{\"pagerduty-oncall\": \"render-placeholder-routing-key\", \"slack-alerts\": \"https://hooks.slack.invalid/render-placeholder\"\}}"
  for stack in "${stacks[@]}"; do
    "$ROOT/scripts/stack.sh" render "$stack" >/dev/null || die "render of $stack failed (run scripts/stack.sh render $stack)"
  done
fi
mode=check
[ "$update" = 1 ] && mode=update
export PATH="$ROOT/node_modules/.bin:$PATH"
exec ts-node --transpile-only "$ROOT/scripts/lib/kube-score.ts" "$mode" "$BIN" "${stacks[@]}"
