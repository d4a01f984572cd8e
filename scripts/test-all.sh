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
# The CLI bundle is built once here, so the tests that start `edc-sync` processes never wait on (or race) a build.
check "command line bundles (esbuild → dist/cli)" npm run -s build:cli

# Unit and integration tests: node's test runner, files found beside the code. The counts are read from the
# spec reporter's closing lines ("ℹ pass N"); no such lines means the run did not finish: a failure, never a pass.
mapfile -t files < <(find electron shared scripts -name '*.test.ts' -not -path '*/node_modules/*' | sort)
# A hung test can never eat the CI budget: the whole node suite is bounded, and leaked handles cannot keep it alive.
# node_suite NAME LIMIT FILES...: runs one node:test run and adds its counts ("ℹ pass N" / "ℹ fail N" closing lines;
# no such lines means the run did not finish: a failure, never a pass).
node_suite() {
  local name=$1 limit=$2; shift 2
  timeout --signal=KILL "$limit" node --import tsx --test --test-concurrency=2 --test-force-exit --test-reporter=spec "$@" 2>&1 | tee "$out/unit.log"
  local rc=${PIPESTATUS[0]}
  count() { grep -aE "^ℹ $1 [0-9]+$" "$out/unit.log" | tail -1 | awk '{print $3}'; }
  local p f c
  p=$(count pass); f=$(count fail); c=$(count cancelled)
  if [ -z "$p" ] || [ -z "$f" ]; then
    echo "✖ $name: node test runner ended (exit $rc) without its summary: counted as a failure"; failed=$((failed + 1))
  else
    passed=$((passed + p))
    failed=$((failed + f + ${c:-0}))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "${c:-0}" -eq 0 ]; then
      echo "✖ $name: node test runner exited $rc without reporting a failed test"; failed=$((failed + 1))
    fi
  fi
}
node_suite "unit and integration" 900 "${files[@]}"

# The storage contract on PostgreSQL: the suites of the consumer, file import, conflicts, status, review, custody
# and the REST server again, with every site and central store's tables in a real PostgreSQL 15 that the fixture
# starts itself (electron/core/testing/postgres.ts). Laptops stay on SQLite.
CONTRACT=(electron/core/consumer.test.ts electron/core/conflicts.test.ts electron/core/isolation.test.ts electron/core/one-writer.test.ts
  electron/core/fleet.test.ts electron/core/golden-v1.test.ts electron/core/requisitions.test.ts electron/core/time-to-lab.test.ts
  electron/core/custody.test.ts electron/core/corrections.test.ts electron/core/domain/upcast.test.ts electron/core/set-aside.test.ts electron/core/unpaired-producers.test.ts electron/core/producer-waits.test.ts electron/sync/back-in-time.test.ts electron/files/files.test.ts electron/files/waits.test.ts electron/files/resend-batch.test.ts
  electron/files/signed-files.test.ts electron/files/import-faults.test.ts electron/app/review.test.ts electron/sync/rest.test.ts)
export EDC_TEST_STORE=postgres
node_suite "storage contract on PostgreSQL" 900 "${CONTRACT[@]}"
unset EDC_TEST_STORE

# E2E: Playwright in Debian's Chromium against real processes. The renderer is built first; the counts come from
# Playwright's JSON report (expected = passed, unexpected + flaky = failed); a missing report is a failure.
check "renderer builds (vite)" npm run -s build:renderer
rm -f test-results/e2e-results.json
timeout --signal=KILL 900 npx playwright test 2>&1 | tee "$out/e2e.log"
e2e_rc=${PIPESTATUS[0]}
if [ -f test-results/e2e-results.json ]; then
  read -r ep ef < <(node -e 'const s=require("./test-results/e2e-results.json").stats; console.log(s.expected, s.unexpected + s.flaky)')
  passed=$((passed + ep)); failed=$((failed + ef))
  if [ "$e2e_rc" -ne 0 ] && [ "$ef" -eq 0 ]; then echo "✖ playwright exited $e2e_rc without a failed test (see above)"; failed=$((failed + 1)); fi
else
  echo "✖ playwright wrote no report (exit $e2e_rc): counted as a failure"; failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
