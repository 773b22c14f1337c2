#!/bin/sh
# Beside every MongoDB member of a replica set: runs replset.js (initiate once on ordinal 0,
# reconfigure from the primary when the members change) against the local mongod every
# CHECK_INTERVAL seconds (default 30). Idempotent: it acts only on what rs.conf() reports.
# Environment: see replset.js; CONFIG_DIR (where both files are mounted), CHECK_INTERVAL.
set -eu

interval="${CHECK_INTERVAL:-30}"
while true; do
  if mongosh --quiet --host 127.0.0.1 --eval 'db.adminCommand("ping").ok' >/dev/null 2>&1; then
    mongosh --quiet --host 127.0.0.1 --file "${CONFIG_DIR}/replset.js" || echo "replset: run failed, retrying in ${interval}s"
  fi
  sleep "${interval}"
done
