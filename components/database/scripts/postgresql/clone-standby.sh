#!/bin/sh
# Init container of every PostgreSQL member.
#
# Ordinal 0 is the primary; the image's entrypoint initialises it. Every other member whose data
# directory is empty clones the primary with pg_basebackup and becomes a streaming standby (-R
# writes standby.signal and primary_conninfo, with application_name = the pod name). A member whose
# data directory exists keeps it, so restarts and re-runs change nothing, and members added by a
# later scale-up clone the primary the same way as the first ones.
#
# Environment: POD_NAME (<statefulset>-<ordinal>, from the downward API), PGDATA, PRIMARY_HOST,
# POSTGRES_USER_FILE and POSTGRES_PASSWORD_FILE (files of the credentials Secret), PGPASSFILE (the
# pgpass file in the pod's /tmp emptyDir that start.sh rewrites on every start); PGPORT when the
# primary does not listen on 5432. The password reaches libpq through that file (mode 0600), never
# through the environment or a command line.
set -eu

ordinal="${POD_NAME##*-}"
if [ "$ordinal" = "0" ]; then
  echo "clone-standby: ${POD_NAME} is the primary, nothing to clone"
  exit 0
fi
if [ -s "${PGDATA}/PG_VERSION" ]; then
  echo "clone-standby: ${PGDATA} is initialised, nothing to clone"
  exit 0
fi

user="$(cat "${POSTGRES_USER_FILE}")"
until pg_isready -q -h "${PRIMARY_HOST}" -U "${user}"; do
  echo "clone-standby: waiting for the primary ${PRIMARY_HOST}"
  sleep 2
done

# pgpass: host:port:database:user:password, with ':' and '\' escaped; libpq wants mode 0600 at most.
umask 077
printf '*:*:*:*:%s\n' "$(sed 's/[\\:]/\\&/g' "${POSTGRES_PASSWORD_FILE}")" > "${PGPASSFILE}"

# Leftovers of an interrupted clone (no PG_VERSION yet): pg_basebackup needs an empty directory.
rm -rf "${PGDATA:?}"
echo "clone-standby: cloning ${PRIMARY_HOST} into ${PGDATA}"
pg_basebackup \
  --dbname="host=${PRIMARY_HOST} user=${user} application_name=${POD_NAME}" \
  --pgdata="${PGDATA}" --write-recovery-conf --wal-method=stream --checkpoint=fast -w
echo "clone-standby: ${POD_NAME} is a standby of ${PRIMARY_HOST}"
