import { readFileSync } from 'node:fs';

/** Set by the desktop build (esbuild define); under tsx the version comes from package.json. */
declare const __EDC_SYNC_VERSION__: string | undefined;

/** The app version, recorded in exports and status. */
export const APP_VERSION: string = typeof __EDC_SYNC_VERSION__ === 'string'
  ? __EDC_SYNC_VERSION__
  : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
