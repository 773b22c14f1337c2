#!/bin/sh
# Init container of every MySQL member: writes the replication settings of this member into
# $MYSQL_CONF_DIR/replication.cnf (an emptyDir mounted at /etc/mysql/conf.d, which the image's
# my.cnf includes). Every member: a unique server-id (100 + ordinal), GTIDs, the binary log, its
# stable name as report_host, and the clone plugin (new replicas are seeded from the primary by
# scripts/mysql/replica.sh). Replicas are made read-only by replica.sh once they replicate (the
# image's first-start initialisation writes on every member, so read_only cannot be set here).
#
# SEMI_SYNC=yes adds semi-synchronous replication: the primary's commit returns once one replica
# has received it; without an acknowledging replica it waits rpl_semi_sync_source_timeout (MySQL's
# default) and then continues asynchronously.
#
# Environment: POD_NAME (<statefulset>-<ordinal>), HEADLESS (the headless Service), MYSQL_CONF_DIR,
# SEMI_SYNC (yes|no).
set -eu

ordinal="${POD_NAME##*-}"
umask 022
cat > "${MYSQL_CONF_DIR}/replication.cnf" <<CNF
[mysqld]
server-id = $((100 + ordinal))
gtid_mode = ON
enforce_gtid_consistency = ON
log_bin = binlog
log_replica_updates = ON
report_host = ${POD_NAME}.${HEADLESS}
plugin-load-add = mysql_clone.so
CNF
if [ "${SEMI_SYNC:-no}" = "yes" ]; then
  cat >> "${MYSQL_CONF_DIR}/replication.cnf" <<CNF
plugin-load-add = semisync_source.so
plugin-load-add = semisync_replica.so
rpl_semi_sync_source_enabled = ON
rpl_semi_sync_source_wait_for_replica_count = 1
rpl_semi_sync_replica_enabled = ON
CNF
fi
echo "configure: ${POD_NAME} server-id $((100 + ordinal))"
