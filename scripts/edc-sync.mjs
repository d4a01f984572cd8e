#!/usr/bin/env node
// The `edc-sync` command: runs electron/cli.ts under plain Node (TypeScript through tsx).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/cli.ts');
process.exitCode = await main(process.argv);
