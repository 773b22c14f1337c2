#!/bin/sh
# The Kafka broker container's command (KafkaCluster): sets this pod's broker identity and
# listeners from its StatefulSet ordinal, then execs the image's entrypoint, given as the arguments
# ("$@": /etc/kafka/docker/run in KRaft mode, /etc/confluent/docker/run in ZooKeeper mode). Both
# entrypoints turn the KAFKA_* variables into the broker's properties; this script's own settings
# are named BROKER_* so that they never become properties.
#
# - kraft: node.id = ordinal; the first $BROKER_CONTROLLER_VOTERS pods are broker and controller
#   (they listen on the controller port too), the others brokers only.
# - zookeeper: broker.id = ordinal (the listeners come from KAFKA_LISTENERS as given).
# - with an EXTERNAL listener (BROKER_EXTERNAL_PORT set): each pod also listens there and
#   advertises its own address, the ordinal-th word of $BROKER_EXTERNAL_ADDRESSES.
#
# Environment: POD_NAME (the pod name, "<statefulset>-<ordinal>", from the downward API), BROKER_MODE (kraft|zookeeper),
# BROKER_CLIENT_PORT, BROKER_CONTROLLER_PORT and BROKER_CONTROLLER_VOTERS (kraft),
# BROKER_EXTERNAL_PORT and BROKER_EXTERNAL_ADDRESSES (optional), KAFKA_ADVERTISED_LISTENERS.
set -eu

fail() { echo "broker-start: $*" >&2; exit 2; }

if [ "$#" -eq 0 ]; then fail "no entrypoint given (arguments: the image's entrypoint)"; fi
ordinal="${POD_NAME##*-}"
case "${ordinal}" in
  ''|*[!0-9]*) fail "POD_NAME '${POD_NAME}' does not end in a StatefulSet ordinal" ;;
esac

external=""
if [ -n "${BROKER_EXTERNAL_PORT:-}" ]; then
  i=0
  address=""
  for a in ${BROKER_EXTERNAL_ADDRESSES:-}; do
    if [ "${i}" -eq "${ordinal}" ]; then address="${a}"; fi
    i=$((i + 1))
  done
  if [ -z "${address}" ]; then fail "no external address for broker ${ordinal} in BROKER_EXTERNAL_ADDRESSES '${BROKER_EXTERNAL_ADDRESSES:-}'"; fi
  external=",EXTERNAL://:${BROKER_EXTERNAL_PORT}"
  export KAFKA_ADVERTISED_LISTENERS="${KAFKA_ADVERTISED_LISTENERS},EXTERNAL://${address}"
fi

case "${BROKER_MODE}" in
  kraft)
    export KAFKA_NODE_ID="${ordinal}"
    if [ "${ordinal}" -lt "${BROKER_CONTROLLER_VOTERS}" ]; then
      export KAFKA_PROCESS_ROLES="broker,controller"
      export KAFKA_LISTENERS="PLAINTEXT://:${BROKER_CLIENT_PORT},CONTROLLER://:${BROKER_CONTROLLER_PORT}${external}"
    else
      export KAFKA_PROCESS_ROLES="broker"
      export KAFKA_LISTENERS="PLAINTEXT://:${BROKER_CLIENT_PORT}${external}"
    fi ;;
  zookeeper)
    export KAFKA_BROKER_ID="${ordinal}" ;;
  *) fail "unknown BROKER_MODE '${BROKER_MODE}'; allowed: kraft, zookeeper" ;;
esac
echo "broker-start: ${POD_NAME}: ${BROKER_MODE} broker ${ordinal}${KAFKA_PROCESS_ROLES:+ (${KAFKA_PROCESS_ROLES})}"
exec "$@"
