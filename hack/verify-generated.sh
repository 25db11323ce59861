#!/usr/bin/env bash
# Fails when a generated file is out of date: regenerates everything into a temporary
# directory with hack/generate.sh and diffs it against the checkout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/hack/generate.sh" "$tmp"
status=0
for p in dashboards deploy/components/grafana-dashboards/dashboards deploy/components/prometheus-operator/prometheusrule.yaml \
  deploy/helm/enforcement-auditor/files; do
  if ! diff -ru "$root/$p" "$tmp/$p"; then
    status=1
  fi
done
if [[ $status -ne 0 ]]; then
  echo "generated files are out of date: run hack/generate.sh and commit the result" >&2
fi
exit $status
