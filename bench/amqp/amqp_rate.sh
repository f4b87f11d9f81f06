#!/usr/bin/env bash
# The broker's own publish/consume rate (issue 13's baseline): starts a private RabbitMQ on
# loopback (as ../shared/agent/WIRE.md §2.3 and tests/amqp_broker.h: its own HOME, node name,
# ports and epmd; nothing outside a temporary directory), then runs amqp_rate (one publisher and
# one consumer of our client through amq.topic) for each body size, and stops the broker.
#
#   bench/amqp/amqp_rate.sh [BUILD_DIR] [SECONDS] [WINDOW]      # build-release 10 256
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-release}
secs=${2:-10}
window=${3:-256}
rate=$build/bench/amqp_rate
[ -x "$rate" ] || { echo "no $rate: build first (./build.sh bench)" >&2; exit 1; }
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || { echo "rabbitmq-server is not installed (build.sh installs it)" >&2; exit 1; }

B=$(mktemp -d)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
amqp=$(port); dist=$(port); epmd_port=$(port)
export HOME=$B/home RABBITMQ_NODENAME=ratebench@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$amqp RABBITMQ_DIST_PORT=$dist
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$epmd_port
export RABBITMQ_CONF_ENV_FILE=$B/rabbitmq-env.conf RABBITMQ_CONFIG_FILE=$B/rabbitmq
export RABBITMQ_ENABLED_PLUGINS_FILE=$B/enabled_plugins RABBITMQ_MNESIA_BASE=$B/mnesia
export RABBITMQ_LOG_BASE=$B/log RABBITMQ_PID_FILE=$B/rabbit.pid RABBITMQ_LOGS=-
mkdir -p "$HOME"
: > "$B/rabbitmq-env.conf"
printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users = none\n' "$amqp" > "$B/rabbitmq.conf"
echo '[].' > "$B/enabled_plugins"
ctl=/usr/lib/rabbitmq/bin/rabbitmqctl
stop_broker() {
  "$ctl" shutdown > /dev/null 2>&1 || true
  epmd -kill > /dev/null 2>&1 || true
  rm -rf "$B"
}
trap stop_broker EXIT
epmd -daemon
setsid /usr/lib/rabbitmq/bin/rabbitmq-server > "$B/server.out" 2>&1 < /dev/null &
"$ctl" wait --timeout 60 "$RABBITMQ_PID_FILE" > /dev/null
"$ctl" add_vhost session01 > /dev/null
"$ctl" add_user paul iamthewalrus > /dev/null
"$ctl" set_permissions -p session01 paul '.*' '.*' '.*' > /dev/null
url=amqp://paul:iamthewalrus@127.0.0.1:$amqp/session01
echo "== RabbitMQ $(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null) on 127.0.0.1:$amqp, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for size in 100 1400; do
  echo "== $size-byte bodies, window $window, $secs s"
  "$rate" "$url" "$secs" "$size" "$window"
done
