#!/usr/bin/env bash
# Builds the deploy tooling from the Go modules pinned in tools/promtool, tools/kustomize
# and tools/helm (promtool, promql-names, kustomize, helm) and prints the directory holding
# them. Binaries are cached outside the checkout, keyed by the pinned versions and the
# modules' go.mod/go.sum, so only the first run on a machine pays the build (promtool:
# several minutes on two cores).
#
#   TOOLS_BIN=$(hack/tools.sh) go test ./test/deploy/...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The version of module $2 required in go.mod $1 (single-line or block require).
required() { awk -v m="$2" '$1=="require"&&$2==m{print $3; exit} $1==m{print $2; exit}' "$1"; }
prom=$(required "$root/tools/promtool/go.mod" github.com/prometheus/prometheus)
kust=$(required "$root/tools/kustomize/go.mod" sigs.k8s.io/kustomize/kustomize/v5)
helm=$(required "$root/tools/helm/go.mod" helm.sh/helm/v4)
[[ -n "$prom" && -n "$kust" && -n "$helm" ]] || { echo "tools.sh: cannot read the pinned versions from tools/*/go.mod" >&2; exit 1; }
key=$(cat "$root"/tools/promtool/go.mod "$root"/tools/promtool/go.sum "$root"/tools/promtool/cmd/promql-names/*.go \
  "$root"/tools/kustomize/go.mod "$root"/tools/kustomize/go.sum "$root"/tools/helm/go.mod "$root"/tools/helm/go.sum | sha256sum | cut -c1-12)
dir="${ENFORCEMENT_AUDITOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/enforcement-auditor}/bin/tools-prometheus-$prom-kustomize-$kust-helm-$helm-$key"
# One build at a time per cache: two overlapping runs would share (and remove) one
# half-built directory.
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [[ ! -x "$dir/promtool" || ! -x "$dir/promql-names" || ! -x "$dir/kustomize" || ! -x "$dir/helm" ]]; then
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  echo "building promtool $prom, promql-names, kustomize $kust and helm $helm into $dir" >&2
  # remove_all_sd: promtool's service-discovery plugins are not needed to check and test
  # rules, and some of their dependencies are not on the module proxy (upstream's own
  # build tag for slim builds; see prometheus/plugins).
  (cd "$root/tools/promtool" && CGO_ENABLED=0 go build -tags remove_all_sd -trimpath -ldflags "-s -w" \
    -o "$dir.tmp/" github.com/prometheus/prometheus/cmd/promtool ./cmd/promql-names)
  (cd "$root/tools/kustomize" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
    -o "$dir.tmp/kustomize" sigs.k8s.io/kustomize/kustomize/v5)
  (cd "$root/tools/helm" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
    -o "$dir.tmp/helm" helm.sh/helm/v4/cmd/helm)
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
echo "$dir"
