/**
 * Consumed batches with every kind of problem box on screen at once (issue 14: axe still passes on every screen):
 * a change that could not be applied (red), one that waits for its record (yellow), a producer's missing changes
 * (yellow), a file batch that has not arrived and a manifest without its data (yellow). axe (WCAG 2 A and AA) finds
 * no serious or critical violation, colour contrast of the boxes' titles included. The stores are prepared
 * in-process and with the command line before the site's server starts.
 */
import { mkdirSync, readdirSync, renameSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { Consumer } from '../electron/core/consumer.ts';
import { copyFrom } from '../electron/core/copy.ts';
import { Study } from '../electron/core/domain/study.ts';
import { Store } from '../electron/core/store.ts';
import { pairAt } from '../electron/core/testing/fixtures.ts';
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
  for (const d of ['ra-01', 'ra-02', 'ra-03', 'ra-04']) lab.device(d, 'field');
  lab.device('mm-01', 'middleman');
  const site = Store.open(lab.dir('site-01'));
  const stores = ['ra-01', 'ra-02', 'ra-03', 'ra-04', 'mm-01'].map((d) => Store.open(lab.dir(d)));
  const [ra1, ra2, ra3, ra4, mm] = stores as [Store, Store, Store, Store, Store];
  try {
    pairAt(site, ra1, ra2, ra3, ra4, mm);
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
    const r = new Consumer(site).consume();
    expect(r.deferred).toBeGreaterThan(0);
    expect(r.errors).toBeGreaterThan(0);
    expect(r.gaps.length).toBeGreaterThan(0);
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
});
