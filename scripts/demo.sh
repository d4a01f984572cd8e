#!/usr/bin/env bash
# A working walk through the sync core with the real CLI: two field laptops and a site store in ./demo.
# (The Electron app, the site server and its web UI come with the next milestones; see README.)
set -euo pipefail
cd "$(dirname "$0")/.."
cli() { node scripts/edc-sync.mjs "$@"; }
rm -rf demo && mkdir -p demo
cli --data demo/site init --role site --device-id site-01
cli --data demo/site keys create
cli --data demo/site keys export --out demo/study.keys
for ra in ra-01 ra-02; do
  cli --data "demo/$ra" init --role field --device-id "$ra"
  cli --data "demo/$ra" keys import demo/study.keys
  cli --data "demo/$ra" seed --subjects 50
  cli --data demo/site copy --from "demo/$ra"
done
rm demo/study.keys
cli --data demo/site consume
echo; echo "== field laptop ra-01"; cli --data demo/ra-01 status
echo; echo "== site server"; cli --data demo/site status
echo; echo "Data folders are in ./demo; try: node scripts/edc-sync.mjs --data demo/site status --json"
