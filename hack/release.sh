#!/usr/bin/env bash
# Builds the release artifacts into dist/<version>/, without a registry:
#   enforcement-auditor_<version>_<os>_<arch>.tar.gz   linux and darwin, amd64 and arm64
#                                                      (the static binary, LICENSE if any, README)
#   checksums.txt                                      sha256 of every archive
#   enforcement-auditor_<version>.cdx.json             CycloneDX SBOM of the binary's modules
#   krew/enforcement-auditor.yaml                      krew plugin manifest, from deploy/krew
#   enforcement-auditor-<chart version>.tgz            the Helm chart, packaged
# The image is built separately (Dockerfile; docs/operate.md "Image").
#
#   VERSION=v0.2.0 hack/release.sh        # default: git describe
#   PLATFORMS=linux/amd64 hack/release.sh # a subset (a trial: the krew manifest keeps the others' placeholders)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
revision=${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
out="dist/$version"
rm -rf "$out" && mkdir -p "$out/krew"
ldflags="-s -w -X github.com/llm-platform/enforcement-auditor/auditor/version.Version=$version -X github.com/llm-platform/enforcement-auditor/auditor/version.Revision=$revision"

# SBOM: cyclonedx-gomod from the module pinned in tools/sbom, built once into the cache.
# It reads the module list embedded in the first binary (its `bin` mode: no git needed).
sbomver=$(awk '$1=="require"&&$2=="github.com/CycloneDX/cyclonedx-gomod"{print $3} $1=="github.com/CycloneDX/cyclonedx-gomod"{print $2}' tools/sbom/go.mod | head -1)
bin="${ENFORCEMENT_AUDITOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/enforcement-auditor}/bin/cyclonedx-gomod-$sbomver"
if [[ ! -x "$bin" ]]; then
  mkdir -p "$(dirname "$bin")"
  (cd tools/sbom && CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod) && mv "$bin.tmp" "$bin"
fi
platforms=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
for platform in $platforms; do
  os=${platform%/*} arch=${platform#*/}
  name="enforcement-auditor_${version}_${os}_${arch}"
  mkdir -p "$out/$name"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$out/$name/enforcement-auditor" ./cmd/enforcement-auditor
  sbom="$out/enforcement-auditor_${version}.cdx.json"
  [[ -f "$sbom" ]] || "$bin" bin -json -version "$version" -output "$sbom" "$out/$name/enforcement-auditor"
  cp README.md "$out/$name/"
  [[ -f LICENSE ]] && cp LICENSE "$out/$name/"
  # Reproducible archives: fixed order, owner and time.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$out" -czf "$out/$name.tar.gz" "$name"
  rm -rf "${out:?}/$name"
done
(cd "$out" && sha256sum ./*.tar.gz | sed 's| \./| |' >checksums.txt)

# krew manifest: the template with the version and each archive's checksum filled in.
manifest=$(sed "s|{{VERSION}}|$version|g" deploy/krew/enforcement-auditor.yaml)
for platform in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64; do
  [[ " $platforms " == *" ${platform/_//} "* ]] || continue
  sum=$(awk -v f="enforcement-auditor_${version}_${platform}.tar.gz" '$2==f{print $1}' "$out/checksums.txt")
  manifest=${manifest//"{{SHA256_${platform}}}"/$sum}
done
printf '%s\n' "$manifest" >"$out/krew/enforcement-auditor.yaml"

# The chart, packaged with the pinned helm (hack/tools.sh).
tools=$(hack/tools.sh)
"$tools/helm" package deploy/helm/enforcement-auditor --destination "$out" --app-version "$version" >/dev/null

echo "$out"
