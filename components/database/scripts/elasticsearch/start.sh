#!/bin/sh
# Main container of every Elasticsearch member of a multi-node cluster: the image's entrypoint,
# with cluster.initial_master_nodes only while the cluster forms for the first time. Elasticsearch
# must not keep the bootstrap setting once the cluster exists (a restarted or added node could
# bootstrap a second cluster). So it is passed only when this node has no cluster state on its data
# volume yet and no other member answers on the HTTP port (any HTTP answer, 401 included, means a
# cluster is running).
#
# Environment: ES_DATA_DIR, INITIAL_MASTER_NODES ("node,node,..."), SEED_HOSTS ("host,host,..."),
# ES_ENTRYPOINT (default: the image's /usr/local/bin/docker-entrypoint.sh).
set -eu

bootstrap=yes
if [ -d "${ES_DATA_DIR}/_state" ]; then
  bootstrap=no
else
  for host in $(echo "${SEED_HOSTS}" | tr ',' ' '); do
    if curl --silent --insecure --max-time 3 --output /dev/null "https://${host}:9200/"; then
      bootstrap=no
    fi
  done
fi

entrypoint="${ES_ENTRYPOINT:-/usr/local/bin/docker-entrypoint.sh}"
if [ "${bootstrap}" = "yes" ]; then
  echo "start: first formation, cluster.initial_master_nodes=${INITIAL_MASTER_NODES}"
  exec env "cluster.initial_master_nodes=${INITIAL_MASTER_NODES}" "${entrypoint}" eswrapper
fi
echo "start: the cluster exists, no bootstrap settings"
exec "${entrypoint}" eswrapper
