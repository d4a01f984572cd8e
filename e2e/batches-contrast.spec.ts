/**
 * The warning colours on screen (issue 14: axe still passes on every screen; renderer/src/ui.tsx WAIT_COLOR and
 * CONFLICT_COLOR in place of Mantine's yellow and orange). Consumed batches with every kind of problem box at once:
 * a change that could not be applied (red), one that waits for its record (yellow), a producer's missing changes
 * (yellow), a file batch that has not arrived and a manifest without its data (yellow); on the same site the Devices
 * flags (owing, old version) and the chain of custody of a tube it does not know, one received unsigned by its giver
 * and one missing at the lab. On a field laptop: blood tubes near and past their stability limit, changes waiting
 * and with a driver, a file written and not sent, a share that stopped, a delete's warning; on a driver's laptop the full-keys warning. axe (WCAG 2 A and AA) finds no serious or critical
 * violation, colour contrast included, in each box and on each screen. The stores are prepared in-process and with
 * the command line before the servers start.
 */
import { mkdirSync, readdirSync, renameSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { Consumer } from '../electron/core/consumer.ts';
import { copyFrom } from '../electron/core/copy.ts';
import { Study } from '../electron/core/domain/study.ts';
import { Store } from '../electron/core/store.ts';
import { createBackend } from '../electron/app/backend.ts';
import { callsAs } from '../electron/app/testing.ts';
import { recordLive } from '../electron/core/fleet.ts';
import { pairAt } from '../electron/core/testing/fixtures.ts';
import { SCHEMA_VERSION } from '../electron/core/domain/registry.ts';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

async function axe(page: Page, include?: string): Promise<string[]> {
  const builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']);
  if (include) builder.include(include);
  const r = await builder.analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

const person = (n: number) => ({ firstName: `Neo${n}`, lastName: 'Molefe', dob: '1990-04-12', identityNumber: `88010150090${n}`, phone: null, gender: 'F' as const, registrationDatetime: new Date().toISOString() });

test('the problem boxes on Consumed batches pass axe (contrast included)', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'dm', 'data-manager');
  for (const d of ['ra-01', 'ra-02', 'ra-03', 'ra-04', 'ra-05']) lab.device(d, 'field');
  lab.device('mm-01', 'middleman');
  const site = Store.open(lab.dir('site-01'));
  const stores = ['ra-01', 'ra-02', 'ra-03', 'ra-04', 'ra-05', 'mm-01'].map((d) => Store.open(lab.dir(d)));
  const [ra1, ra2, ra3, ra4, ra5, mm] = stores as [Store, Store, Store, Store, Store, Store];
  let tubes: string[] = [];
  try {
    pairAt(site, ra1, ra2, ra3, ra4, ra5, mm);
    // Waits for its record: the driver's laptop changes a participant the site has not received yet.
    const s = new Study(ra1).registerSubject(person(1), { user: 'ra' });
    copyFrom(mm, ra1.dir);
    new Consumer(mm).consume();
    new Study(mm).write.update('edc.subject', String(s.id), { phone: '+267 72 000 002' }, { user: 'driver' });
    copyFrom(site, mm.dir);
    // Missing changes: ra-02's first change never arrived.
    for (let n = 2; n <= 3; n++) new Study(ra2).registerSubject(person(n), { user: 'ra' });
    copyFrom(site, ra2.dir);
    site.sql.prepare("DELETE FROM incoming_transaction WHERE producer = 'ra-02' AND producer_seq = 1").run();
    // Could not be applied: ra-03's change arrived damaged.
    new Study(ra3).registerSubject(person(4), { user: 'ra' });
    copyFrom(site, ra3.dir);
    site.sql.prepare("UPDATE incoming_transaction SET tx = ? WHERE producer = 'ra-03'").run(Buffer.from('damaged on the way'));
    // Two tubes from ra-05 that arrive by sync, without the laptop's signed hand-over (the chain's yellow flags below).
    const study5 = new Study(ra5);
    const s5 = study5.registerSubject(person(6), { user: 'ra' });
    const v5 = study5.write.insert('edc.visit', { subjectId: String(s5.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: new Date().toISOString(), reason: 'scheduled' }, { user: 'ra' });
    tubes = (['Chemistry', 'Stored plasma'] as const).map((panel) => String(study5.requisition({ visitId: String(v5.id), panel, specimenType: panel === 'Chemistry' ? 'serum' : 'plasma', drawnDatetime: new Date().toISOString(), itemCount: 1 }, { user: 'ra' }).requisition_identifier));
    copyFrom(site, ra5.dir);
    const r = new Consumer(site).consume();
    expect(r.deferred).toBeGreaterThan(0);
    expect(r.errors).toBeGreaterThan(0);
    expect(r.gaps.length).toBeGreaterThan(0);
    // A laptop with an old version that still owes changes (the Devices flags in orange and yellow).
    recordLive(site, { deviceId: 'ra-09', role: 'field', latestSeq: 5, appVersion: '0.0.1', schemaVersion: SCHEMA_VERSION, keyIds: [], clock: new Date().toISOString() }, 'contact');
    // The lab assistant received the first tube from ra-05 and not the second: unsigned by the giver, and missing.
    const backend = createBackend({ dataDir: site.dir, host: 'web', emit: () => {}, store: site });
    await callsAs(backend, { username: 'lab', role: 'lab-assistant' }).call('reconciliation.save', {
      scope: { kind: 'laptop', producer: 'ra-05' }, location: 'lab', scanned: [tubes[0]!], reasons: { [tubes[1]!]: { reason: 'not-collected', note: '' } }, missingConfirmed: 1,
    });
    await backend.close();
  } finally {
    for (const st of [site, ...stores]) st.close();
  }
  // Files: ra-04's batch 2 has not arrived, and batch 3's manifest came without its data.
  const usb = path.join(lab.root, 'usb');
  for (let round = 1; round <= 3; round++) {
    lab.cli('ra-04', ['seed', '--subjects', '1', '--seed', String(round)]);
    lab.cli('ra-04', ['export', '--out', usb]);
  }
  const files = readdirSync(usb).sort();
  const aside = path.join(lab.root, 'aside');
  mkdirSync(aside);
  const batch3data = files.find((x) => x.includes('_000003_') && x.endsWith('.jsonl.gz'))!;
  for (const f of [...files.filter((x) => x.includes('_000002_')), batch3data]) renameSync(path.join(usb, f), path.join(aside, f));
  const old = new Date(Date.now() - 3 * 3600_000); // a lone half is listed once it has waited a while
  utimesSync(path.join(usb, `${batch3data}.manifest.json`), old, old);
  lab.cli('site-01', ['config', 'set', 'importDir', usb]);
  lab.cli('site-01', ['import']);

  const page = await (await browser.newContext()).newPage();
  await login(page, await lab.serve('site-01'), 'dm');
  await openScreen(page, 'Consumed batches');
  const groups = page.getByTestId('reason-group');
  await expect(groups.filter({ hasText: /could not be applied/ })).toHaveCount(1);
  await expect(groups.filter({ hasText: /wait/ }).first()).toBeVisible();
  await expect(page.getByTestId('gaps-alert')).toBeVisible();
  await expect(page.getByTestId('batch-gaps')).toBeVisible();
  await expect(page.getByTestId('unmatched-files')).toBeVisible();
  await shot(page, info, 'batches-problem-boxes');
  for (const box of ['[data-testid="reason-group"]', '[data-testid="gaps-alert"]', '[data-testid="batch-gaps"]', '[data-testid="unmatched-files"]', '[data-testid="producer-waits"]']) {
    expect(await axe(page, box), box).toEqual([]);
  }
  expect(await axe(page)).toEqual([]);

  await openScreen(page, 'Devices');
  const ra9 = page.locator('[data-testid="device-row"][data-device="ra-09"]');
  await expect(ra9.getByTestId('flag-owing')).toBeVisible();
  await expect(ra9.getByTestId('flag-old-version')).toBeVisible();
  await shot(page, info, 'devices-flags');
  expect(await axe(page, '[data-testid="devices-table"]')).toEqual([]);
  expect(await axe(page)).toEqual([]);

  await openScreen(page, 'Chain of custody');
  await page.getByTestId('custody-tube').fill('RRA010000012');
  await page.getByTestId('custody-show').click();
  await expect(page.getByTestId('custody-unknown')).toBeVisible();
  await shot(page, info, 'custody-unknown');
  expect(await axe(page, '[data-testid="custody-unknown"]')).toEqual([]);
  expect(await axe(page)).toEqual([]);
  for (const [tube, flag] of [[tubes[0]!, 'unsigned'], [tubes[1]!, 'missing']] as const) {
    await page.getByTestId('custody-tube').fill(tube);
    await page.getByTestId('custody-show').click();
    await expect(page.getByTestId(`custody-flag-${flag}`)).toBeVisible();
    await shot(page, info, `custody-${flag}`);
    expect(await axe(page, `[data-testid="custody-flag-${flag}"]`)).toEqual([]);
    expect(await axe(page)).toEqual([]);
  }
});

test('the warning colours on a field laptop and a driver’s laptop pass axe: late tubes, waiting changes, the yellow and orange boxes', async ({ lab, browser }, info) => {
  lab.device('ra-01', 'field');
  lab.user('ra-01', 'ra', 'research-assistant');
  lab.user('ra-01', 'admin', 'admin'); // File transfer is the administrator's
  lab.device('mm-01', 'middleman'); // with the full key set: the orange warning on its Status screen
  lab.user('mm-01', 'driver', 'research-assistant');
  const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
  const store = Store.open(lab.dir('ra-01'));
  try {
    const study = new Study(store);
    const s = study.registerSubject({ ...person(5), registrationDatetime: ago(300) }, { user: 'ra' });
    const v = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: ago(295), reason: 'scheduled' }, { user: 'ra' });
    // Chemistry keeps 120 minutes: drawn 100 min ago it is near its limit; stored plasma (240) drawn 290 min ago is past it.
    study.requisition({ visitId: String(v.id), panel: 'Chemistry', specimenType: 'serum', drawnDatetime: ago(100), itemCount: 1 }, { user: 'ra' });
    study.requisition({ visitId: String(v.id), panel: 'Stored plasma', specimenType: 'plasma', drawnDatetime: ago(290), itemCount: 1 }, { user: 'ra' });
    // A driver took the first two changes (still waiting for the server).
    store.sql.prepare('UPDATE outgoing_transaction SET is_consumed_middleman = 1 WHERE producer_seq <= 2').run();
  } finally {
    store.close();
  }
  lab.cli('ra-01', ['export', '--out', path.join(lab.root, 'usb')]); // a file written, not sent yet
  const url = await lab.serve('ra-01');
  const page = await (await browser.newContext()).newPage();
  await login(page, url, 'ra');

  await openScreen(page, 'Data entry');
  await page.getByTestId('subject-row').filter({ hasText: 'Neo5' }).getByRole('button', { name: 'Open' }).click();
  await expect(page.locator('[data-testid="since-draw"][data-freshness="near"]')).toBeVisible();
  await expect(page.locator('[data-testid="since-draw"][data-freshness="past"]')).toBeVisible();
  await shot(page, info, 'tubes-near-and-past-limit');
  expect(await axe(page, '[data-testid="since-draw"]')).toEqual([]);
  expect(await axe(page)).toEqual([]);
  await page.getByRole('button', { name: 'Delete participant' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('delete-warning')).toBeVisible();
  expect(await axe(page, '[data-testid="delete-warning"]')).toEqual([]);
  await dialog.getByRole('button', { name: 'Close' }).click();

  await openScreen(page, 'Changes waiting to be sent');
  await expect(page.getByTestId('hop').filter({ hasText: 'With a driver' }).first()).toBeVisible();
  await expect(page.getByTestId('hop').filter({ hasText: 'Only on this device' }).first()).toBeVisible();
  await shot(page, info, 'pending-waiting-and-with-driver');
  expect(await axe(page)).toEqual([]);

  await openScreen(page, 'Let the driver pull');
  await page.getByTestId('share-start').click();
  await page.getByRole('button', { name: 'Stop sharing' }).click();
  await expect(page.getByTestId('share-result')).toContainText('Sharing stopped.');
  await shot(page, info, 'share-stopped');
  expect(await axe(page, '[data-testid="share-result"]')).toEqual([]);
  expect(await axe(page)).toEqual([]);

  const admin = await (await browser.newContext()).newPage();
  await login(admin, url, 'admin');
  await openScreen(admin, 'File transfer');
  await expect(admin.getByTestId('file-state').first()).toHaveText('to send');
  await shot(admin, info, 'file-written');
  expect(await axe(admin)).toEqual([]);

  const driver = await (await browser.newContext()).newPage();
  await login(driver, await lab.serve('mm-01'), 'driver');
  await expect(driver.getByTestId('status-keys-warning')).toBeVisible();
  await shot(driver, info, 'driver-keys-warning');
  expect(await axe(driver, '[data-testid="status-keys-warning"]')).toEqual([]);
  expect(await axe(driver)).toEqual([]);
});
