#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go modules pinned in tools/kube and prints the
# directory holding them. Binaries are cached outside the checkout, keyed by the pinned
# versions, so only the first run on a machine pays the ~10 minute build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/tools/kube"
kube=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' go.mod)
etcd=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' go.mod)
key=$(cat go.mod go.sum | sha256sum | cut -c1-12)
dir="${ENFORCEMENT_AUDITOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/enforcement-auditor}/bin/kube-$kube-etcd-$etcd-$key"
# One build at a time per cache: two overlapping runs would share (and remove) one
# half-built directory.
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [[ ! -x "$dir/kube-apiserver" || ! -x "$dir/etcd" ]]; then
  mkdir -p "$dir.tmp"
  echo "building kube-apiserver $kube and etcd $etcd into $dir (first time: ~10 minutes)" >&2
  # Stamp the version the way the Kubernetes release build does, so /version reports it.
  pkg=k8s.io/client-go/pkg/version
  cpkg=k8s.io/component-base/version
  ld="-s -w"
  for p in $pkg $cpkg; do
    ld="$ld -X $p.gitVersion=$kube -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$kube" | cut -d. -f2) -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$dir.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir.tmp/etcd" go.etcd.io/etcd/server/v3
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
echo "$dir"
