#!/usr/bin/env bash
# `npm run server`: the site server on a fresh machine. Uses $EDC_SYNC_DATA (default ./data/site); creates a site
# store and the study's key set there on first start. Extra arguments go to `edc-sync server` (--host, --port).
set -euo pipefail
cd "$(dirname "$0")/.."
export EDC_SYNC_DATA="${EDC_SYNC_DATA:-$PWD/data/site}"
cli() { node scripts/edc-sync.mjs "$@"; }
if [ ! -f "$EDC_SYNC_DATA/settings.json" ]; then
  cli init --role site --device-id "${EDC_SYNC_DEVICE_ID:-site-01}"
  cli keys create
  echo "New study key set in $EDC_SYNC_DATA/keys: export it with 'npx edc-sync --data $EDC_SYNC_DATA keys export --out study.keys' for the devices."
fi
echo "Pair a device: 'npx edc-sync --data $EDC_SYNC_DATA pairing-code' here, then 'edc-sync pair --server URL --code CODE' on the device."
exec node scripts/edc-sync.mjs server "$@"
