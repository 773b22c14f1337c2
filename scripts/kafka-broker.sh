#!/usr/bin/env bash
# A real single-node Apache Kafka broker on 127.0.0.1 for trying the kafka provider (no containers).
#
#   scripts/kafka-broker.sh start     fetch the jars if needed, format the log dir once, start, wait until ready
#   scripts/kafka-broker.sh stop      stop the broker started by this script
#   scripts/kafka-broker.sh status    running or not (exit 0 / 1)
#   scripts/kafka-broker.sh reset     stop and delete the broker's data
#   scripts/kafka-broker.sh libs      fetch the jars if needed and print their directory (the runtime
#                                     test of the brokers' start script runs Kafka from it)
#   scripts/kafka-broker.sh topics ARGS    Kafka's kafka-topics tool against the broker, e.g.
#                                          topics --describe --topic NAME
#   scripts/kafka-broker.sh configs ARGS   Kafka's kafka-configs tool against the broker, e.g.
#                                          configs --describe --entity-type topics --entity-name NAME
#
# KRaft combined mode (broker + controller, node 1), PLAINTEXT on 127.0.0.1:9092, controller on
# 127.0.0.1:9093, internal topics with replication factor 1. Point the kafka provider at it with
# bootstrapServers ["127.0.0.1:9092"] and tlsEnabled false.
#
# Apache Kafka comes from Maven Central (org.apache.kafka:kafka_2.13 and kafka-tools with their
# runtime dependencies, plus slf4j-reload4j for logging), resolved with `mvn dependency:copy-dependencies`
# into ${K8S_PLATFORM_KAFKA:-~/.cache/k8s-platform/kafka-<version>}/libs. Data and logs live in
# .state/kafka/ (gitignored). Needs java (17) and mvn.
#
# Environment: KAFKA_VERSION (default 3.9.1), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
# KAFKA_HEAP (512m), KAFKA_STATE_DIR (default <repo>/.state/kafka).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
HEAP="${KAFKA_HEAP:-512m}"
HOME_DIR="${K8S_PLATFORM_KAFKA:-$HOME/.cache/k8s-platform/kafka-$KAFKA_VERSION}"
STATE="${KAFKA_STATE_DIR:-$ROOT/.state/kafka}"
PID_FILE="$STATE/broker.pid"
LOG="$STATE/broker.log"

log() { printf '[kafka-broker] %s\n' "$*" >&2; }
die() { printf '[kafka-broker] ERROR: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

ensure_jars() {
  if [ -f "$HOME_DIR/libs/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$HOME_DIR/.complete-2" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn is needed to fetch Apache Kafka $KAFKA_VERSION from Maven Central"
  mkdir -p "$HOME_DIR"
  cat >"$HOME_DIR/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.k8s-platform</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>
  </dependencies>
</project>
EOF
  log "fetching Apache Kafka $KAFKA_VERSION and its runtime dependencies from Maven Central into $HOME_DIR/libs"
  rm -rf "$HOME_DIR/libs"
  (cd "$HOME_DIR" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$HOME_DIR/libs" -DincludeScope=runtime >&2) \
    || die "mvn dependency:copy-dependencies failed"
  touch "$HOME_DIR/.complete-2"
}

java_cmd() {
  command -v java >/dev/null || die "java (17) is needed"
  java "-Xmx$HEAP" "-Xms$HEAP" -Dlog4j.configuration="file:$STATE/log4j.properties" -cp "$HOME_DIR/libs/*" "$@"
}

write_config() {
  mkdir -p "$STATE/data"
  cat >"$STATE/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$STATE/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
  cat >"$STATE/log4j.properties" <<EOF
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
EOF
}

start() {
  if running; then log "already running (pid $(cat "$PID_FILE")) on 127.0.0.1:$PORT"; return 0; fi
  if port_open "$PORT"; then die "127.0.0.1:$PORT is already in use by another process"; fi
  ensure_jars
  write_config
  if [ ! -f "$STATE/data/meta.properties" ]; then
    local id; id="$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    [ -n "$id" ] || die "StorageTool random-uuid failed"
    log "formatting $STATE/data (cluster id $id)"
    java_cmd kafka.tools.StorageTool format -t "$id" -c "$STATE/server.properties" --ignore-formatted >>"$LOG" 2>&1 \
      || die "StorageTool format failed (see $LOG)"
  fi
  log "starting Kafka $KAFKA_VERSION (KRaft, node 1) on 127.0.0.1:$PORT; log: $LOG"
  local start; start=$(date +%s)
  # setsid: the broker outlives this shell and is not hit by its job-control signals.
  setsid bash -c 'exec java "$@"' _ "-Xmx$HEAP" "-Xms$HEAP" -Dlog4j.configuration="file:$STATE/log4j.properties" \
    -cp "$HOME_DIR/libs/*" kafka.Kafka "$STATE/server.properties" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 120); do
    if ! running; then tail -n 20 "$LOG" >&2; rm -f "$PID_FILE"; die "the broker exited during start-up (see $LOG)"; fi
    if port_open "$PORT" && grep -q "Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started" "$LOG"; then
      log "ready in $(( $(date +%s) - start ))s (pid $(cat "$PID_FILE"))"; return 0
    fi
    sleep 0.5
  done
  die "the broker did not become ready within 60s (see $LOG)"
}

stop() {
  if ! running; then log "not running"; rm -f "$PID_FILE"; return 0; fi
  local pid; pid=$(cat "$PID_FILE")
  log "stopping pid $pid"
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; log "stopped"; return 0; }
    sleep 0.5
  done
  log "still running after 30s; sending SIGKILL to $pid"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if running && port_open "$PORT"; then echo "running (pid $(cat "$PID_FILE")) on 127.0.0.1:$PORT"; exit 0; fi
    echo "not running"; exit 1 ;;
  reset) stop; rm -rf "$STATE"; log "removed $STATE" ;;
  libs) ensure_jars; echo "$HOME_DIR/libs" ;;
  topics|configs)
    tool=org.apache.kafka.tools.TopicCommand
    [ "$1" = configs ] && tool=kafka.admin.ConfigCommand
    shift
    ensure_jars
    [ -f "$STATE/log4j.properties" ] || write_config
    # Tools log at WARN to stderr only.
    java -Xmx256m -Dlog4j.configuration="file:$STATE/log4j.properties" -Dlog4j.rootLogger=WARN \
      -cp "$HOME_DIR/libs/*" "$tool" --bootstrap-server "127.0.0.1:$PORT" "$@" ;;
  *) echo "usage: scripts/kafka-broker.sh start|stop|status|reset|libs|topics ARGS|configs ARGS" >&2; exit 2 ;;
esac
