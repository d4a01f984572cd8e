#!/usr/bin/env bash
# `npm run server`: the site server with its web UI on a fresh machine. Uses $EDC_SYNC_DATA (default ./data/site);
# on first start creates a site store, the study's key set and an `admin` web account (its password printed once).
# Builds the web UI if it is not built yet. Extra arguments go to `edc-sync server` (--host, --port).
set -euo pipefail
cd "$(dirname "$0")/.."
export EDC_SYNC_DATA="${EDC_SYNC_DATA:-$PWD/data/site}"
cli() { node scripts/edc-sync.mjs "$@"; }
[ -f dist/renderer/index.html ] || npm run -s build:renderer
if [ ! -f "$EDC_SYNC_DATA/settings.json" ]; then
  cli init --role site --device-id "${EDC_SYNC_DEVICE_ID:-site-01}"
  cli keys create
  password=$(node -e "console.log(require('node:crypto').randomBytes(12).toString('base64url'))")
  printf '%s\n' "$password" | cli user add --username admin --role admin
  echo "Web UI account: admin / $password  (shown once; change it with 'npx edc-sync --data $EDC_SYNC_DATA user add --username admin --role admin')"
  echo "New study key set in $EDC_SYNC_DATA/keys: export it with 'npx edc-sync --data $EDC_SYNC_DATA keys export --out study.keys' for the devices."
fi
echo "Pair a device: 'npx edc-sync --data $EDC_SYNC_DATA pairing-code --device-id ID --role ROLE' here, then 'edc-sync pair --server URL --code CODE' on the device."
exec node scripts/edc-sync.mjs server "$@"
