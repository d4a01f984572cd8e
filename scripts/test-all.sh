#!/usr/bin/env bash
# Runs every suite and ends with one line "N passed, N failed" summed over all of them.
# Static checks (typecheck, lint, migrations-match-schema) count as one test each.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0

check() { # name, command...
  local name=$1; shift
  if "$@" >"$out/check.log" 2>&1; then
    echo "✔ check: $name"; passed=$((passed + 1))
  else
    echo "✖ check: $name"; sed 's/^/    /' "$out/check.log"; failed=$((failed + 1))
  fi
}

check "typecheck (node + shared without Node/DOM)" npm run -s typecheck
check "lint (incl. runtime boundaries)" npm run -s lint
check "migrations match the schema" npm run -s db:check

# Unit and integration tests: node's test runner, files found beside the code.
mapfile -t files < <(find electron shared scripts -name '*.test.ts' -not -path '*/node_modules/*' | sort)
# A hung test can never eat the CI budget: the whole node suite is bounded.
timeout --signal=KILL 900 node --import tsx --test --test-concurrency=2 --test-force-exit \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$out/unit.tap" "${files[@]}"
unit_rc=$?
p=$(grep -E '^# pass ' "$out/unit.tap" | awk '{print $3}' | tail -1)
f=$(grep -E '^# fail ' "$out/unit.tap" | awk '{print $3}' | tail -1)
c=$(grep -E '^# cancelled ' "$out/unit.tap" | awk '{print $3}' | tail -1)
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0} + ${c:-0}))
if [ "$unit_rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && [ "${c:-0}" -eq 0 ]; then
  echo "✖ node test runner exited $unit_rc without reporting a failed test"; failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
