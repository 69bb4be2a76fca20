#!/usr/bin/env bash
# demo.sh - README command 1: install what is missing, build, and run the demo: the real
# churnwatchd on an embedded Kafka (librdkafka's mock cluster, in-process) and a private
# redis-server, fed a generated 90-day history of 40 accounts of every kind, printing
# alerts as they fire and a final table of accounts. Stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh >/dev/null
echo "building churnwatch..."
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build build/demo -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
exec build/demo/daemon/churnwatch -c conf/churnwatch.yaml demo "$@"
