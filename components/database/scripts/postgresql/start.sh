#!/bin/sh
# Main container of every PostgreSQL member: the image's entrypoint with the container's args.
#
# The args may carry synchronous_standby_names. The entrypoint initialises an empty data directory
# with a temporary server started with the same args, and on a fresh primary there is no standby
# yet: every commit of the initialisation (CREATE DATABASE, the init scripts) would wait forever.
# PGOPTIONS reaches only the entrypoint's own psql sessions, so they commit locally; the server
# that serves clients afterwards keeps synchronous_commit as configured.
set -eu
PGOPTIONS="-c synchronous_commit=local" exec "${POSTGRES_ENTRYPOINT:-docker-entrypoint.sh}" "$@"
