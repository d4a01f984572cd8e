import { readFileSync } from 'node:fs';

/** Set by the bundles (esbuild define: scripts/build-app.mjs, scripts/build-cli.mjs); under tsx the version comes from package.json. */
declare const __EDC_SYNC_VERSION__: string | undefined;

/**
 * Whether this code runs from a bundle, dist/<name>/*.mjs (dist/electron, dist/cli), rather than from the sources
 * under tsx: paths found from import.meta.url differ (dist/renderer is `../renderer` from a bundle).
 */
export const BUNDLED: boolean = typeof __EDC_SYNC_VERSION__ === 'string';

/** The app version, recorded in exports and status. */
export const APP_VERSION: string = typeof __EDC_SYNC_VERSION__ === 'string'
  ? __EDC_SYNC_VERSION__
  : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
