#!/bin/sh
# Main container of every PostgreSQL member: the image's entrypoint with the container's args.
#
# The args may carry synchronous_standby_names. The entrypoint initialises an empty data directory
# with a temporary server started with the same args, and on a fresh primary there is no standby
# yet: every commit of the initialisation (CREATE DATABASE, the init scripts) would wait forever.
# PGOPTIONS reaches only the entrypoint's own psql sessions, so they commit locally; the server
# that serves clients afterwards keeps synchronous_commit as configured.
#
# A standby's WAL receiver authenticates to the primary with the password of the credentials
# Secret: it is written here, on every start, from POSTGRES_PASSWORD_FILE into PGPASSFILE (a pgpass
# file in the pod's /tmp emptyDir, mode 0600), so it is never kept in the data directory and a
# changed Secret applies on the next start. clone-standby.sh writes the same file.
#
# Environment: POSTGRES_PASSWORD_FILE, POSTGRES_USER_FILE (read by the entrypoint), PGPASSFILE,
# POSTGRES_ENTRYPOINT (default: the image's docker-entrypoint.sh).
set -eu
umask 077
# pgpass: host:port:database:user:password, with ':' and '\' escaped.
printf '*:*:*:*:%s\n' "$(sed 's/[\\:]/\\&/g' "${POSTGRES_PASSWORD_FILE}")" > "${PGPASSFILE}"
umask 022
PGOPTIONS="-c synchronous_commit=local" exec "${POSTGRES_ENTRYPOINT:-docker-entrypoint.sh}" "$@"
