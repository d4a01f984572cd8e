#!/usr/bin/env bash
# Validates the electron-builder configuration offline (TOOLCHAIN.md): no Electron binary can be downloaded here,
# so a stub executable stands in for Electron and native modules are not rebuilt. Checks that the app's files are
# in the asar and that the native module and the migrations are unpacked beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build-app.mjs >/dev/null
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
printf '#!/bin/sh\necho "stub electron"\n' > "$stub/electron"
chmod +x "$stub/electron"
rm -rf release/linux-unpacked
npx electron-builder --linux dir -c.electronDist="$stub" -c.npmRebuild=false --publish never > "$stub/builder.log" 2>&1 || { cat "$stub/builder.log"; exit 1; }
res=release/linux-unpacked/resources
fail=0
need() { if ! grep -qx "$1" "$stub/asar.txt"; then echo "missing in app.asar: $1"; fail=1; fi; }
npx asar list "$res/app.asar" | sed 's#^/##' > "$stub/asar.txt"
for f in package.json dist/electron/main.mjs dist/electron/worker.mjs dist/electron/preload.cjs dist/renderer/index.html \
  node_modules/better-sqlite3/package.json node_modules/ssh2-sftp-client/package.json; do need "$f"; done
if grep -q '^dist/.*\.map$' "$stub/asar.txt"; then echo "source maps of the app packaged"; fail=1; fi
if grep -q 'test-shell-' "$stub/asar.txt"; then echo "test build packaged"; fail=1; fi
[ -f "$res/app.asar.unpacked/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ] || { echo "better_sqlite3.node is not unpacked"; fail=1; }
ls "$res/app.asar.unpacked/dist/electron/db/migrations/"0000_*.sql >/dev/null 2>&1 || { echo "migrations are not unpacked"; fail=1; }
main=$(node -e "const a=require('@electron/asar');console.log(JSON.parse(a.extractFile(process.argv[1],'package.json')).main)" "$res/app.asar")
[ "$main" = "dist/electron/main.mjs" ] || { echo "packaged main is $main"; fail=1; }
[ "$fail" -eq 0 ] && echo "package config OK: $(wc -l < "$stub/asar.txt") files in app.asar, native module and migrations unpacked, main=$main"
exit "$fail"
