#!/bin/sh
# Init container of every MySQL member: writes the replication settings of this member into
# $MYSQL_CONF_DIR/replication.cnf (an emptyDir mounted at /etc/mysql/conf.d, which the image's
# my.cnf includes). Every member: a unique server-id (100 + ordinal), GTIDs, the binary log, its
# stable name as report_host, and the clone plugin (new replicas are seeded from the primary by
# scripts/mysql/replica.sh). Replicas are made read-only by replica.sh once they replicate (the
# image's first-start initialisation writes on every member, so read_only cannot be set here).
#
# Environment: POD_NAME (<statefulset>-<ordinal>), HEADLESS (the headless Service), MYSQL_CONF_DIR.
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
echo "configure: ${POD_NAME} server-id $((100 + ordinal))"
