#!/usr/bin/env bash
# Installs what `npm run test:runtime` runs: the real database servers as Debian packages (no
# containers) and shellcheck. Idempotent: a second run installs nothing. Needs root (CI runs as root).
#
#   postgresql-15   server binaries in /usr/lib/postgresql/15/bin (initdb, postgres, pg_basebackup, pg_dump, pg_restore)
#   redis-server    redis-server and redis-cli (Debian 12: Redis 7.0)
#   redis-sentinel  the sentinel binary
#   (and the linter) checks the scripts that run inside the database pods
set -euo pipefail

PACKAGES=(postgresql-15 postgresql-client-15 redis-server redis-sentinel redis-tools shellcheck)

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
