/**
 * Every wait of file import is on screen: a batch that has not arrived (later ones wait for it) and a file without its
 * other half are shown on central's Consumed batches and Status screens in plain words, and disappear when the files
 * arrive and are imported.
 */
import { mkdirSync, readdirSync, renameSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

test('central shows the batch that has not arrived and a manifest without its data, until they arrive', async ({ lab, page }, info) => {
  lab.device('ra-44', 'field');
  lab.device('central-44', 'central');
  lab.user('central-44', 'dm', 'data-manager');
  const usb = path.join(lab.root, 'usb');
  for (let round = 1; round <= 3; round++) {
    lab.cli('ra-44', ['seed', '--subjects', '2', '--seed', String(round)]);
    lab.cli('ra-44', ['export', '--out', usb]);
  }
  const files = readdirSync(usb).sort();
  const batch2 = files.filter((f) => f.includes('_000002_'));
  const batch3data = files.find((f) => f.includes('_000003_') && f.endsWith('.jsonl.gz'))!;
  const aside = path.join(lab.root, 'aside');
  mkdirSync(aside);
  for (const f of [...batch2, batch3data]) renameSync(path.join(usb, f), path.join(aside, f));
  const old = new Date(Date.now() - 3 * 3600_000);
  utimesSync(path.join(usb, `${batch3data}.manifest.json`), old, old);
  lab.cli('central-44', ['config', 'set', 'importDir', usb]);
  lab.cli('central-44', ['import']);
  const st = lab.json<{ incoming: { batchGaps: { exporter: string; from: number }[]; unmatchedFiles: { kind: string }[] } }>('central-44', ['status']);
  expect(st.incoming.batchGaps.map((g) => [g.exporter, g.from])).toEqual([['ra-44', 2]]);
  expect(st.incoming.unmatchedFiles.map((u) => u.kind)).toEqual(['manifest-without-data']);

  const url = await lab.serve('central-44');
  await login(page, url, 'dm');
  await openScreen(page, 'Consumed batches');
  await expect(page.getByTestId('batch-gaps')).toContainText('batch 2 from ra-44 (missing since');
  await expect(page.getByTestId('batch-gaps')).toContainText('Later files from these senders wait until these arrive');
  await expect(page.getByTestId('unmatched-files')).toContainText(`${batch3data}.manifest.json: its data file has not arrived (here since 3 hours ago)`);
  await shot(page, info, 'waits-1-batches');
  await openScreen(page, 'Status');
  await expect(page.getByTestId('batch-gaps')).toBeVisible();
  await shot(page, info, 'waits-2-status');

  // The other stick arrives: import from the screen; both waits are gone.
  for (const f of readdirSync(aside)) renameSync(path.join(aside, f), path.join(usb, f));
  await openScreen(page, 'Consumed batches');
  await page.getByTestId('import-files').click();
  await expect(page.getByTestId('import-result')).toContainText('2 files imported');
  await expect(page.getByTestId('batch-gaps')).toHaveCount(0);
  await expect(page.getByTestId('unmatched-files')).toHaveCount(0);
  await shot(page, info, 'waits-3-filled');
});
