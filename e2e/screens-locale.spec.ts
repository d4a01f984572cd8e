/**
 * The rest of issue 14's screens: the Conflicts screen in the draft Setswana locale with no English left where the
 * catalogue has an entry; the language picker's visible label in both locales; a conflict's sentence on Consumed
 * batches in the users' words (the model's name only on the details line); a count and a pager on the Devices table
 * and on the files set aside. The stores are prepared in-process before the site's server starts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { en } from '../shared/i18n/en.ts';
import { tn } from '../shared/i18n/tn.ts';
import { MANIFEST_SUFFIX } from '../shared/files.ts';
import { Consumer } from '../electron/core/consumer.ts';
import { copyFrom } from '../electron/core/copy.ts';
import { deleteRecord } from '../electron/core/corrections.ts';
import { SCHEMA_VERSION } from '../electron/core/domain/registry.ts';
import { Study } from '../electron/core/domain/study.ts';
import { recordLive } from '../electron/core/fleet.ts';
import { Store } from '../electron/core/store.ts';
import { pairAt } from '../electron/core/testing/fixtures.ts';
import { APP_VERSION } from '../electron/core/version.ts';
import { expect, login, openScreen, shot, test, type Lab } from './fixtures.ts';
import { englishLeft } from './locale.ts';

async function axe(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** A laptop's delete of a participant that a driver's laptop changed meanwhile: one conflict at the site. */
function conflictAtSite(lab: Lab): string {
  const field = Store.open(lab.dir('ra-01'));
  const mm = Store.open(lab.dir('mm-01'));
  const site = Store.open(lab.dir('site-01'));
  try {
    pairAt(site, field, mm);
    const study = new Study(field);
    const s = study.registerSubject({ firstName: 'Amara', lastName: 'Okafor', dob: '1990-04-12', identityNumber: '8801015009087', phone: '+267 71 000 001', gender: 'F', registrationDatetime: new Date().toISOString() }, { user: 'ra' });
    const id = String(s.id);
    copyFrom(mm, field.dir);
    new Consumer(mm).consume();
    copyFrom(site, field.dir);
    new Consumer(site).consume();
    new Study(mm).write.update('edc.subject', id, { phone: '+267 72 000 002' }, { user: 'driver' });
    copyFrom(site, mm.dir);
    new Consumer(site).consume();
    deleteRecord(field, study, 'subject', id, 'registered twice by mistake', { user: 'ra' });
    copyFrom(site, field.dir);
    expect(new Consumer(site).consume().conflicts).toBe(1);
    return String(s.subject_identifier);
  } finally {
    for (const st of [field, mm, site]) st.close();
  }
}

const CONFLICT_SECTIONS = ['nav', 'common', 'roles', 'userRoles', 'conflicts', 'models', 'inspector.field', 'pending.protected', 'time'];

test('the Conflicts screen in Setswana has no English left; the language picker is labelled in both locales; the conflict’s sentence names the participant', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'dm', 'data-manager');
  lab.device('ra-01', 'field');
  lab.device('mm-01', 'middleman');
  const label = conflictAtSite(lab);
  const page = await (await browser.newContext()).newPage();
  await login(page, await lab.serve('site-01'), 'dm');

  // The picker's label is on screen, and names the box.
  await expect(page.getByTestId('language-label')).toHaveText('Language');
  await expect(page.getByRole('textbox', { name: 'Language', exact: true })).toBeVisible();

  // Consumed batches: the conflict in the users' words; the model's name only on the details line.
  await openScreen(page, 'Consumed batches');
  const group = page.getByTestId('reason-group').filter({ has: page.getByTestId('reason-sentence') });
  await expect(group.getByTestId('reason-sentence')).toHaveText('This participant was deleted on another device from revision 1, but it had changed here meanwhile (revision 2). Settle it on the Conflicts screen.');
  await expect(group.getByTestId('reason-details')).toContainText('edc.subject');
  await shot(page, info, 'batches-conflict-sentence');
  expect(await axe(page)).toEqual([]);

  // In English the check finds the screen's words (so it can fail), none of them from a details line.
  await openScreen(page, 'Conflicts');
  const english = await englishLeft(page, CONFLICT_SECTIONS);
  expect(english).toEqual(expect.arrayContaining([en.conflicts.title, en.conflicts.take, en.conflicts.keep, en.models['edc.subject'], 'Deleted on another device from revision']));
  expect(english.join(' ')).not.toContain('edc.subject');

  // Setswana: the label follows, and the Conflicts screen says everything in it.
  await page.getByTestId('language').first().click();
  await page.getByRole('option', { name: /Setswana/ }).click();
  await expect(page.getByTestId('language-label')).toHaveText(tn.common.language);
  await expect(page.getByRole('textbox', { name: tn.common.language, exact: true })).toBeVisible();
  await page.getByRole('navigation', { name: tn.nav.label }).getByRole('link', { name: tn.nav.conflicts }).click();
  await expect(page.getByRole('heading', { level: 2 })).toHaveText(tn.conflicts.title);
  const card = page.getByTestId('conflict');
  await expect(card.getByTestId('conflict-title')).toHaveText(`${tn.models['edc.subject']} ${label}`);
  await expect(page.getByTestId('conflicts-count')).toHaveText('kganetsano e le 1');
  await expect(card.getByRole('button', { name: tn.conflicts.take })).toBeVisible();
  expect(await englishLeft(page, CONFLICT_SECTIONS)).toEqual([]);
  await shot(page, info, 'conflicts-tn');
  expect(await axe(page)).toEqual([]);

  // With the resolved ones shown too, after the decision: still no English.
  await card.getByRole('button', { name: tn.conflicts.take }).click();
  await expect(page.getByTestId('no-conflicts')).toHaveText(tn.conflicts.none);
  await page.getByRole('switch', { name: tn.conflicts.showResolved }).check({ force: true });
  await expect(page.getByTestId('conflict')).toHaveCount(1);
  expect(await englishLeft(page, CONFLICT_SECTIONS)).toEqual([]);
  await shot(page, info, 'conflicts-resolved-tn');
  expect(await axe(page)).toEqual([]);
});

test('the Devices table and the files set aside have a count and a pager', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'dm', 'data-manager');
  const site = Store.open(lab.dir('site-01'));
  try {
    for (let n = 1; n <= 23; n++) {
      recordLive(site, { deviceId: `ra-${String(n).padStart(2, '0')}`, role: 'field', latestSeq: 0, appVersion: APP_VERSION, schemaVersion: SCHEMA_VERSION, keyIds: [], clock: new Date().toISOString() }, 'contact');
    }
  } finally {
    site.close();
  }
  const incoming = path.join(lab.dir('site-01'), 'transactions', 'incoming');
  mkdirSync(incoming, { recursive: true });
  for (let n = 1; n <= 12; n++) {
    writeFileSync(path.join(incoming, `ra-09_${n}.jsonl.gz`), 'not a batch');
    writeFileSync(path.join(incoming, `ra-09_${n}.jsonl.gz${MANIFEST_SUFFIX}`), 'not JSON either');
  }
  const page = await (await browser.newContext()).newPage();
  await login(page, await lab.serve('site-01'), 'dm');

  await openScreen(page, 'Devices');
  await expect(page.getByTestId('devices-pager-count')).toHaveText('Showing 1–20 of 23');
  await expect(page.getByTestId('device-row')).toHaveCount(20);
  await page.getByTestId('sort-deviceId').click();
  await expect(page.getByTestId('device-row').first()).toHaveAttribute('data-device', 'ra-01');
  await page.getByTestId('devices-pager').getByRole('button', { name: 'Page 2' }).click();
  await expect(page.getByTestId('devices-pager-count')).toHaveText('Showing 21–23 of 23');
  await expect(page.getByTestId('device-row')).toHaveCount(3);
  await expect(page.getByTestId('device-row').first()).toHaveAttribute('data-device', 'ra-21');
  await shot(page, info, 'devices-page-2');
  // The other way round: the backend orders all 23 before it cuts the page (devices.list pages in SQL).
  await page.getByTestId('sort-deviceId').click();
  await expect(page.getByTestId('devices-pager-count')).toHaveText('Showing 1–20 of 23');
  await expect(page.getByTestId('device-row').first()).toHaveAttribute('data-device', 'ra-23');
  await page.getByTestId('devices-pager').getByRole('button', { name: 'Page 2' }).click();
  await expect(page.getByTestId('device-row')).toHaveCount(3);
  await expect(page.getByTestId('device-row').last()).toHaveAttribute('data-device', 'ra-01');
  expect(await axe(page)).toEqual([]);

  await openScreen(page, 'Consumed batches');
  await page.getByTestId('import-files').click();
  await expect(page.getByTestId('import-result')).toContainText('12 files were set aside');
  const aside = page.getByTestId('set-aside');
  await expect(aside).toContainText('12 files were not imported');
  await expect(page.getByTestId('set-aside-pager-count')).toHaveText('Showing 1–10 of 12');
  await expect(aside.getByTestId('set-aside-row')).toHaveCount(10);
  await page.getByTestId('set-aside-pager').getByRole('button', { name: 'Page 2' }).click();
  await expect(page.getByTestId('set-aside-pager-count')).toHaveText('Showing 11–12 of 12');
  await expect(aside.getByTestId('set-aside-row')).toHaveCount(2);
  await expect(aside.getByTestId('set-aside-row').first()).toContainText('the manifest is not JSON');
  await shot(page, info, 'set-aside-page-2');
  expect(await axe(page)).toEqual([]);
});
