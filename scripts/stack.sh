#!/usr/bin/env bash
# Runs the real Pulumi engine on a stack of this project, offline, with the policy pack.
#
#   scripts/stack.sh preview <stack> [pulumi args]   pulumi preview, pack enforced
#   scripts/stack.sh up      <stack> [pulumi args]   pulumi up --yes, pack enforced
#   scripts/stack.sh render  <stack> [pulumi args]   pulumi up in render mode: manifests -> rendered/<stack>/
#   scripts/stack.sh destroy|refresh <stack> [args]
#   scripts/stack.sh recover <stack>                 after an interrupted up (killed, crashed): release
#                                                    the stack's lock (pulumi cancel), refresh clearing
#                                                    pending creates, then import the Kafka topics and
#                                                    auto-named objects whose create was pending
#
# Embedded default: a file state backend in .state/backend and a passphrase secrets provider with
# a local-only passphrase. Set PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE(_FILE) to use your
# own (render always uses a throwaway state under .state/render-backend/, rebuilt on each run).
# The committed Pulumi.<stack>.yaml files are never modified: the engine reads a generated copy
# (.state/config/) that adds the stack's encryption salt and, for render, the render directory.
# Tests and benchmarks run variants without touching the committed files: STACK_CONFIG_FILE reads
# that file instead of Pulumi.<stack>.yaml; STACK_STATE_DIR moves .state/{config,salt} elsewhere
# (use it with your own PULUMI_BACKEND_URL: the salt belongs to the backend's stack).
# K8S_PLATFORM_ALERTING_SECRETS (JSON: receiver name -> URL or routing key) becomes the secret
# k8s-platform:alertingSecrets of the generated copy; prod needs it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "stack.sh: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: scripts/stack.sh <preview|up|render|destroy|refresh|recover> <stack> [pulumi args]"
cmd=$1; stack=$2; shift 2
case "$cmd" in preview|up|render|destroy|refresh|recover) ;; *) die "unknown command '$cmd'; allowed: preview, up, render, destroy, refresh, recover" ;; esac
stacks=$(cd "$ROOT" && ls Pulumi.*.yaml | sed -E 's/^Pulumi\.(.*)\.yaml$/\1/' | tr '\n' ' ')
[ -f "$ROOT/Pulumi.$stack.yaml" ] || die "no stack '$stack'; allowed: $stacks"

toolchain_bin=$("$ROOT/scripts/toolchain.sh" --print-path)
# Node 22 from the node@22 dev dependency first, then the Pulumi CLI and language host.
export PATH="$ROOT/node_modules/.bin:$toolchain_bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# CI and `npm run typecheck` type-check; the engine only needs to run the program.
export PULUMI_NODEJS_TRANSPILE_ONLY=true
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$ROOT/.state/backend}"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE=k8s-platform-local-only
fi
case "$PULUMI_BACKEND_URL" in file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;; esac

# Render mode uses its own stack, so rendering never pretends resources exist in a cluster.
target=$stack
[ "$cmd" = render ] && target="$stack-render"
state="${STACK_STATE_DIR:-$ROOT/.state}"
mkdir -p "$state/config" "$state/salt"
if [ "$cmd" = render ]; then
  # Each render starts from an empty throwaway state: with state kept, a second render would
  # find nothing to change and write no manifests into the freshly emptied rendered/<stack>/.
  # (Passwords are therefore new on every render; rendered Secrets are throwaway anyway.)
  export PULUMI_BACKEND_URL="file://$state/render-backend/$stack"
  rm -rf "$state/render-backend/$stack" "$state/salt/$target"
  mkdir -p "$state/render-backend/$stack"
fi

# The file backend renames each checkpoint into place, but writes its metadata file (<stack>.json.attrs:
# content type and checksum) in place: an update killed in between leaves it empty or cut short, and
# every command would then fail with "failed to load checkpoint: EOF". Such a file is removed (a
# missing one reads as the defaults; the checkpoint itself is whole), so the next command gets to
# the stack's lock and pending operations, which `recover` handles.
case "$PULUMI_BACKEND_URL" in
  file://*)
    for attrs in "${PULUMI_BACKEND_URL#file://}"/.pulumi/stacks/*/"$target".json*.attrs; do
      [ -f "$attrs" ] || continue
      node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$attrs" 2>/dev/null && continue
      rm -f "$attrs"
      echo "stack.sh: removed $attrs, cut short by an interrupted update (the checkpoint itself is whole)" >&2
    done ;;
esac

# Create the stack once; keep its salt beside, not in, the committed stack file.
salt_file="$state/salt/$target"
if ! (cd "$ROOT" && pulumi stack ls --json 2>/dev/null | grep -q "\"name\": \"$target\""); then
  scratch=$(mktemp -d)
  cp "$ROOT/Pulumi.yaml" "$scratch/"
  (cd "$scratch" && pulumi stack init "$target" --secrets-provider passphrase >/dev/null)
  grep '^encryptionsalt:' "$scratch/Pulumi.$target.yaml" > "$salt_file"
  rm -rf "$scratch"
fi
[ -s "$salt_file" ] || die "stack '$target' exists in $PULUMI_BACKEND_URL but its salt ($salt_file) is missing"

config="$state/config/Pulumi.$target.yaml"
{
  if [ "$cmd" = render ]; then
    # Render mode talks to no cluster: the provider refuses a kubeconfig or context beside it.
    grep -vE '^  kubernetes:(kubeconfig|context):' "${STACK_CONFIG_FILE:-$ROOT/Pulumi.$stack.yaml}"
  else
    cat "${STACK_CONFIG_FILE:-$ROOT/Pulumi.$stack.yaml}"
  fi
  if [ "$cmd" = render ]; then
    rm -rf "$ROOT/rendered/$stack"
    echo "  kubernetes:renderYamlToDirectory: $ROOT/rendered/$stack"
    # No broker exists in render mode: topics are validated but not created.
    echo "  k8s-platform:manageKafkaTopics: false"
  fi
  cat "$salt_file"
} > "$config"

# Alert receivers' endpoints (k8s-platform:alertingSecrets, a JSON object; README "Alerting"):
# from K8S_PLATFORM_ALERTING_SECRETS into the generated copy, encrypted with the stack's secrets
# provider. The value goes through stdin, never on a command line.
if [ -n "${K8S_PLATFORM_ALERTING_SECRETS:-}" ]; then
  printf '%s' "$K8S_PLATFORM_ALERTING_SECRETS" | (cd "$ROOT" && pulumi config set --secret \
    --stack "$target" --config-file "$config" --non-interactive k8s-platform:alertingSecrets) >/dev/null
fi

pack_config="$ROOT/policies/config.$stack.json"
[ -f "$pack_config" ] || pack_config="$ROOT/policies/config.dev.json"
pack=(--policy-pack "$ROOT/policies" --policy-pack-config "$pack_config")
common=(--stack "$target" --config-file "$config" --non-interactive)
# Resource operations at once. The CLI's default is 4 x cores (8 here), and the kubernetes provider
# holds a slot for at least 10 s per Service with a selector (its await waits for the Endpoints to
# settle 10 s: pkg/await/service.go), so 8 slots queue the local stack's ~50 such Services and
# everything behind them. Measured in docs/benchmarks.md ("--parallel"); STACK_PARALLEL overrides.
parallel=(--parallel "${STACK_PARALLEL:-64}")

cd "$ROOT"
case "$cmd" in
  preview) exec pulumi preview "${common[@]}" "${parallel[@]}" "${pack[@]}" "$@" ;;
  up)      exec pulumi up --yes "${common[@]}" "${parallel[@]}" "${pack[@]}" "$@" ;;
  render)  pulumi up --yes "${common[@]}" "${parallel[@]}" "${pack[@]}" "$@"
           echo "rendered: $(find "$ROOT/rendered/$stack" -name '*.yaml' | wc -l) manifests in rendered/$stack" ;;
  destroy) exec pulumi destroy --yes "${common[@]}" "${parallel[@]}" "$@" ;;
  refresh) exec pulumi refresh --yes "${common[@]}" "${parallel[@]}" "$@" ;;
  recover)
    # A killed update leaves the file backend's lock behind (cancel succeeds without one too).
    pulumi cancel --yes --stack "$target" --non-interactive
    # Objects the killed update created but never recorded are pending creates. The refresh
    # clears them: the next `up` adopts (server-side apply) or recreates what is missing. What it
    # cannot adopt is imported after the refresh: Kafka topics (the provider's create fails on an
    # existing topic) and Kubernetes objects the provider named (the next `up` would pick another
    # name and leave them behind). scripts/lib/pending-imports.ts says which; one that was never
    # created is left to the next `up`.
    imports=$(pulumi stack export --stack "$target" \
      | node --require "$ROOT/scripts/ts-cache-register.js" "$ROOT/scripts/lib/pending-imports.ts")
    pulumi refresh --yes --clear-pending-creates "${common[@]}" "${parallel[@]}" "$@"
    [ -n "$imports" ] || exit 0
    file="$state/import.json"
    while IFS= read -r spec; do
      printf '%s\n' "$spec" > "$file"
      what=$(node -e 'const r = JSON.parse(process.argv[1]).resources[0]; process.stdout.write(`${r.type} ${r.id}`)' "$spec")
      id=${what##* }
      if out=$(pulumi import --yes --file "$file" --generate-code=false --protect=false "${common[@]}" 2>&1); then
        echo "recover: imported $what (created by the interrupted update, never recorded)"
      elif grep -qF "resource '$id' does not exist" <<<"$out"; then
        echo "recover: $what was never created; the next up creates it"
      else
        printf '%s\n' "$out" >&2
        die "recover: importing $what failed (above)"
      fi
    done <<<"$imports"
    rm -f "$file" ;;
esac
