#!/usr/bin/env bash
# Offline scan throughput: `enforcement-auditor scan -f` on 1k, 10k and 100k objects of
# the synthetic cluster (test/bench/synth, 100 documents a file), against a floor
# measured in the same run: the same files parsed by the YAML library alone
# (test/bench/scanset decode). CPU is user + system, peak memory is the maximum RSS,
# wall time, all from /usr/bin/time -v; medians of BENCH_SCAN_RUNS runs (default 3).
#
#   hack/bench-scan.sh                          # 1000 10000 100000 objects
#   BENCH_SCAN_SETS="1000 10000" BENCH_SCAN_RUNS=5 hack/bench-scan.sh
#   BENCH_SCAN_BEFORE=/path/to/enforcement-auditor hack/bench-scan.sh   # also another build, same sets, same run
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -x /usr/bin/time ]; then
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y time || { $sudo apt-get update && $sudo apt-get install -y time; }
fi
sets=${BENCH_SCAN_SETS:-1000 10000 100000}
runs=${BENCH_SCAN_RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -trimpath -o "$work/enforcement-auditor" ./cmd/enforcement-auditor
go build -o "$work/scanset" ./test/bench/scanset

# measure CMD...: prints "cpu_seconds rss_kib wall_seconds" of one run (the exit status
# is ignored: a scan with findings exits 1).
measure() {
  /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || true
  awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {m=$2}
    /Elapsed \(wall clock\)/ {n=split($2, t, ":"); w=0; for (i=1; i<=n; i++) w=w*60+t[i]}
    END {printf "%.2f %d %.2f\n", u+s, m, w}' "$work/time.txt"
}
# median of the values on stdin, one a line
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $runs runs per figure, medians"
echo
echo "| set | objects | YAML MB | scan wall s | scan CPU s | scan peak RSS MiB | floor wall s | floor CPU s | floor peak RSS MiB | CPU / floor | RSS KiB per object |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
: >"$work/results"
for n in $sets; do
  dir="$work/set$n"
  "$work/scanset" gen -dir "$dir" -objects "$n"
  mb=$(du -sm --apparent-size "$dir" | cut -f1)
  : >"$work/scan" ; : >"$work/floor"; : >"$work/before"
  for _ in $(seq "$runs"); do
    measure "$work/enforcement-auditor" scan -f "$dir" -o json --max-input-bytes 1Gi --max-input-objects 10000000 >>"$work/scan"
    measure "$work/scanset" decode "$dir" >>"$work/floor"
    if [ -n "${BENCH_SCAN_BEFORE:-}" ]; then
      measure "$BENCH_SCAN_BEFORE" scan -f "$dir" -o json --max-input-bytes 1Gi --max-input-objects 10000000 >>"$work/before"
    fi
  done
  if [ -n "${BENCH_SCAN_BEFORE:-}" ]; then
    echo "before ($BENCH_SCAN_BEFORE), set$n: wall $(cut -d' ' -f3 "$work/before" | median) s, CPU $(cut -d' ' -f1 "$work/before" | median) s, peak RSS $(( $(cut -d' ' -f2 "$work/before" | median | cut -d. -f1) / 1024 )) MiB" >>"$work/before.txt"
  fi
  scpu=$(cut -d' ' -f1 "$work/scan" | median); srss=$(cut -d' ' -f2 "$work/scan" | median)
  fcpu=$(cut -d' ' -f1 "$work/floor" | median); frss=$(cut -d' ' -f2 "$work/floor" | median)
  swall=$(cut -d' ' -f3 "$work/scan" | median); fwall=$(cut -d' ' -f3 "$work/floor" | median)
  echo "$n $scpu $srss $fcpu $frss" >>"$work/results"
  awk -v n="$n" -v mb="$mb" -v sc="$scpu" -v sr="$srss" -v fc="$fcpu" -v fr="$frss" -v sw="$swall" -v fw="$fwall" 'BEGIN {
    printf "| set%d | %d | %d | %.2f | %.2f | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f |\n", n, n, mb, sw, sc, sr/1024, fw, fc, fr/1024, sc/fc, sr/n }'
  rm -rf "$dir"
done
[ -f "$work/before.txt" ] && { echo; cat "$work/before.txt"; }
echo
echo "Growth exponents between consecutive sets (log ratio of the figure over log ratio of objects):"
echo
echo "| from | to | scan CPU | scan RSS | floor CPU |"
echo "|---|---|---|---|---|"
awk 'NR>1 { l=log($1/n); printf "| %d | %d | %.2f | %.2f | %.2f |\n", n, $1, log($2/c)/l, log($3/r)/l, log($4/f)/l }
     { n=$1; c=$2; r=$3; f=$4 }' "$work/results"
