#!/bin/sh
# Init container of every Elasticsearch member: the image's entrypoint writes into its config dir
# (config/elasticsearch.keystore, the auto-configured security files), but the root filesystem is
# read-only. The main container mounts an emptyDir over /usr/share/elasticsearch/config; this copies
# the image's config files into it, once per pod start. Nothing else becomes writable.
#
# Environment: ES_CONFIG_SEED (the emptyDir, mounted here at another path).
set -eu
cp -R /usr/share/elasticsearch/config/. "${ES_CONFIG_SEED}/"
echo "seed-config: copied the image's config into ${ES_CONFIG_SEED}"
