#!/usr/bin/env bash
# Runs every Fuzz* target in the module for a bounded time each (default 10s).
#
# On a loaded machine Go's fuzzing engine can end a run with "context deadline exceeded"
# when -fuzztime runs out while it is still minimising a new input (no failure found:
# nothing is written to testdata/fuzz). Such a run is repeated once; any other failure,
# and a crash (which writes its input under testdata/fuzz), fails at once.
set -euo pipefail
t=${1:-10s}
cd "$(dirname "$0")/.."
for pkg in $(go list ./... | grep -v /test/integration); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' | sort -u); do
    for try in 1 2; do
      echo "fuzz $pkg $f ($t)"
      log=$(mktemp)
      if go test "$pkg" -run '^$' -fuzz "^$f\$" -fuzztime "$t" 2>&1 | tee "$log"; then
        rm -f "$log"
        break
      fi
      if [[ $try == 1 ]] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
        echo "fuzz $pkg $f: the engine ran out of time without a failing input; once more"
        rm -f "$log"
        continue
      fi
      rm -f "$log"
      exit 1
    done
  done
done
