/** The runtime boundaries are enforced: the lint rules fire on a probe file placed in each folder. */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('..', import.meta.url));

async function lintProbe(rel: string, code: string): Promise<string[]> {
  const file = path.join(root, rel);
  writeFileSync(file, code);
  try {
    const [result] = await new ESLint({ cwd: root }).lintFiles([file]);
    return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
  } finally {
    rmSync(file, { force: true });
  }
}

describe('runtime boundaries', () => {
  it('shared/ may not import electron or Node built-ins', async () => {
    const msgs = await lintProbe('shared/__probe_boundary.ts', "import fs from 'node:fs';\nimport { app } from 'electron';\nexport const x = [fs, app];\n");
    const restricted = msgs.filter((m) => m.startsWith('no-restricted-imports'));
    assert.ok(restricted.some((m) => m.includes("'node:fs'")), msgs.join('\n'));
    assert.ok(restricted.some((m) => m.includes("'electron'")), msgs.join('\n'));
  });

  it('electron/ code other than main.ts and the preload may not import electron', async () => {
    const msgs = await lintProbe('electron/core/__probe_boundary.ts', "import { app } from 'electron';\nexport const x = app;\n");
    assert.ok(msgs.some((m) => m.startsWith('no-restricted-imports') && m.includes('Only electron/main.ts')), msgs.join('\n'));
  });

  it('the renderer uses the shared status colours, not Mantine yellow, orange or green (WCAG AA contrast)', async () => {
    const msgs = await lintProbe('renderer/src/__probe_colors.tsx', "import { Badge, Text } from '@mantine/core';\nexport const A = () => <Badge color=\"yellow\">a</Badge>;\nexport const B = () => <Text c={true ? 'orange.9' : 'red.9'}>b</Text>;\nexport const C = { late: { color: 'orange' } };\nexport const D = () => <Badge color=\"red\">d</Badge>;\nexport const E = () => <Badge color=\"green\">e</Badge>;\n");
    assert.equal(msgs.filter((m) => m.startsWith('no-restricted-syntax') && m.includes('WAIT_COLOR, CONFLICT_COLOR or OK_COLOR')).length, 4, msgs.join('\n'));
  });

  it('a clean shared/ module passes', async () => {
    const msgs = await lintProbe('shared/__probe_boundary.ts', "import { z } from 'zod';\nexport const x = z.string();\n");
    assert.deepEqual(msgs, []);
  });
});
