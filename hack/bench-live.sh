#!/usr/bin/env bash
# The live load harness (test/load): a real kube-apiserver and etcd loaded with a
# synthetic cluster, the auditor's start-to-ready time, event-to-metric latency and
# memory against a bare client-go informer floor. Figures go to stdout (Markdown) and to
# $BENCH_LIVE_OUT/load-<pods>.json.
#
#   hack/bench-live.sh                      # 10000 pods, 50 samples
#   BENCH_LIVE_PODS="10000 50000" hack/bench-live.sh
#   BENCH_LIVE_BINDINGS=5000 hack/bench-live.sh  # then 5000 RBAC bindings, the daemon again
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export KUBEBUILDER_ASSETS="${KUBEBUILDER_ASSETS:-$(hack/test-binaries.sh)}"
out="${BENCH_LIVE_OUT:-$root/bin/bench-live}"
mkdir -p "$out"
go build -o "$out/load" ./test/load
for pods in ${BENCH_LIVE_PODS:-10000}; do
  "$out/load" -pods "$pods" -samples "${BENCH_LIVE_SAMPLES:-50}" -bindings "${BENCH_LIVE_BINDINGS:-0}" -json "$out/load-$pods.json" "$@"
done
