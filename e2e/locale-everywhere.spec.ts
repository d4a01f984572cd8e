/**
 * Issue 14: the second locale on every screen, with no English left where the catalogue has an entry. Each role's app
 * (the RA's field laptop, the driver's laptop, the site server with a lab assistant and a data manager, central)
 * holds realistic data prepared in-process before its server starts: seeded participants with visits, forms and
 * tubes, a corrected participant and a deleted one, a conflict at the site, tubes received at the lab on earlier
 * days, the site's files imported at central. Setswana is chosen on the settings screen; then every screen in the
 * nav, and its main views (a participant's page, forms, corrections, changes waiting to be sent, sync and pull,
 * custody, reconciliation, time to lab, labels, a hand-over opened, the inspector, devices, files), is read for any
 * English word of the whole catalogue (e2e/locale.ts `englishLeft`), with a screenshot of each. An English pass on
 * Data entry first proves the check finds the words when they are there.
 */
import path from 'node:path';
import type { BrowserContext, Page, TestInfo } from '@playwright/test';
import { en } from '../shared/i18n/en.ts';
import { tn } from '../shared/i18n/tn.ts';
import { Consumer } from '../electron/core/consumer.ts';
import { copyFrom } from '../electron/core/copy.ts';
import { correctRecord, deleteRecord } from '../electron/core/corrections.ts';
import { Study } from '../electron/core/domain/study.ts';
import { seed } from '../electron/core/seed.ts';
import { Store } from '../electron/core/store.ts';
import { pairAt } from '../electron/core/testing/fixtures.ts';
import { exportBatches, } from '../electron/files/export.ts';
import { importBatches } from '../electron/files/import.ts';
import { expect, Lab, login, openScreen, PASSWORD, shot, test } from './fixtures.ts';
import { englishLeft, englishLines } from './locale.ts';

test.describe.configure({ mode: 'serial' });

const lab = new Lab();
let context: BrowserContext;
const url: Record<'field' | 'middleman' | 'site' | 'central', string> = { field: '', middleman: '', site: '', central: '' };
let amara = '';

/** All four devices' data, through the core write path, before any server starts. */
function prepare(): void {
  const field = Store.open(lab.dir('ra-01'));
  const other = Store.open(lab.dir('mm-02'));
  const site = Store.open(lab.dir('site-01'));
  const central = Store.open(lab.dir('central-01'));
  try {
    pairAt(site, other);
    const study = new Study(field);
    const ra = { user: 'ra' };
    seed(field, 4, { actor: ra });
    // Amara: every form filled, three tubes, details corrected once.
    const s = study.registerSubject({ firstName: 'Amara', lastName: 'Okafor', dob: '1990-04-12', identityNumber: '8801015009087', phone: '+267 71 000 001', gender: 'F', registrationDatetime: new Date(Date.now() - 3_600_000).toISOString() }, ra);
    amara = String(s.subject_identifier);
    const subjectId = String(s.id);
    study.write.insert('edc.consent', { subjectId, version: '1.0', consentDatetime: new Date(Date.now() - 3_500_000).toISOString(), isLiterate: true, language: 'tn' }, ra);
    const visit = study.write.insert('edc.visit', { subjectId, visitCode: '1000', visitCodeSequence: 0, visitDatetime: new Date(Date.now() - 3_400_000).toISOString(), reason: 'scheduled' }, ra);
    const visitId = String(visit.id);
    study.write.insert('edc.vital_signs', { visitId, weightKg: 61.5, heightCm: 160, systolic: 118, diastolic: 76, temperatureC: 36.8, oxygenSaturation: 97 }, ra);
    study.write.insert('edc.medical_history', { visitId, hypertension: false, diabetes: false, hivStatus: 'negative', currentMedications: null }, ra);
    for (const [panel, specimenType] of [['CD4', 'whole blood'], ['Viral load', 'plasma'], ['Chemistry', 'serum']] as const) {
      study.requisition({ visitId, panel, specimenType, drawnDatetime: new Date(Date.now() - 3_000_000).toISOString(), itemCount: 1 }, ra);
    }
    correctRecord(field, study, { kind: 'subject', id: subjectId, reason: 'sefane jaaka mo karateng', changes: { lastName: 'Okafor-Bello' } }, ra);
    // Registered twice: deleted, with the reason.
    const twice = study.registerSubject({ firstName: 'Neo', lastName: 'Phiri', dob: '1985-02-01', identityNumber: '223344556', phone: null, gender: 'M', registrationDatetime: new Date().toISOString() }, ra);
    deleteRecord(field, study, 'subject', String(twice.id), 'o kwadisitswe gabedi', ra);

    // The site: the laptop's changes, and a conflict (a participant changed on another device, deleted on the laptop).
    copyFrom(other, field.dir);
    new Consumer(other).consume();
    const target = field.sql.prepare("SELECT id FROM subject WHERE id <> ? ORDER BY id LIMIT 1").get(subjectId) as { id: string };
    new Study(other).write.update('edc.subject', target.id, { phone: '+267 72 000 002' }, { user: 'kagiso' });
    copyFrom(site, field.dir);
    new Consumer(site).consume();
    copyFrom(site, other.dir);
    new Consumer(site).consume();
    deleteRecord(field, study, 'subject', target.id, 'o fudugile', ra);
    copyFrom(site, field.dir);
    expect(new Consumer(site).consume().conflicts).toBe(1);
    // The lab received the tubes of the day, some time after their draw.
    const tubes = (site.sql.prepare('SELECT requisition_identifier AS id FROM specimen_requisition').all() as { id: string }[]).map((t) => t.id);
    new Study(site).reconcile({ reconciledAt: new Date().toISOString(), location: 'lab', matched: JSON.stringify(tubes), missing: '[]', unexpected: '[]' }, { user: 'lab' });

    // Central: the site's files, imported.
    const incoming = path.join(central.dir, 'transactions', 'incoming');
    exportBatches(site, incoming);
    pairAt(central, site, field, other);
    importBatches(central);
  } finally {
    for (const st of [field, other, site, central]) st.close();
  }
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  lab.device('site-01', 'site');
  lab.user('site-01', 'lab', 'lab-assistant');
  lab.user('site-01', 'dm', 'data-manager');
  lab.user('site-01', 'admin', 'admin');
  lab.device('ra-01', 'field');
  lab.user('ra-01', 'ra', 'research-assistant');
  lab.user('ra-01', 'admin', 'admin');
  lab.device('mm-01', 'middleman');
  lab.user('mm-01', 'kagiso', 'research-assistant'); // the driver
  lab.user('mm-01', 'admin', 'admin');
  lab.device('mm-02', 'middleman');
  lab.device('central-01', 'central');
  lab.user('central-01', 'dm', 'data-manager');
  lab.user('central-01', 'admin', 'admin');
  // The laptops pair with the site as they do in the field; the site then stops while the stores are prepared.
  url.site = await lab.serve('site-01');
  lab.pair('ra-01', 'site-01', url.site);
  lab.pair('mm-01', 'site-01', url.site);
  await lab.stop(url.site);
  prepare();
  await lab.serve('site-01', {}, Number(new URL(url.site).port));
  [url.field, url.middleman, url.central] = await Promise.all([lab.serve('ra-01'), lab.serve('mm-01'), lab.serve('central-01')]);
  context = await browser.newContext();
});

test.afterAll(async () => {
  await context?.close();
  await lab.close();
});

/** The page has every word in Setswana (none of the catalogue's English left), and its screenshot is kept. */
async function sweep(page: Page, info: TestInfo, name: string): Promise<void> {
  expect.soft(await englishLines(page), name).toEqual([]);
  await shot(page, info, name);
}

/** Setswana, chosen with the language setting every user has (the header's; Device & settings has the same for an administrator). */
async function chooseSetswana(page: Page): Promise<void> {
  await page.getByTestId('language').first().click();
  await page.getByRole('option', { name: /Setswana/ }).click();
  await expect(page.getByTestId('language-label')).toHaveText(tn.common.language);
}

/** Logs in whichever language this browser already chose for the app (the login screen follows it). */
async function signIn(page: Page, at: string | null, username: string): Promise<void> {
  const either = (k: keyof typeof en.login) => new RegExp(`^(${en.login[k]}|${tn.login[k]})$`);
  if (at) {
    // The browser may still hold another user's session on this app: that user logs out first.
    await page.goto(at);
    await expect(page.getByLabel(either('username')).or(page.getByTestId('user'))).toBeVisible();
    if (await page.getByTestId('user').isVisible()) await page.getByRole('button', { name: new RegExp(`^(${en.common.logOut}|${tn.common.logOut})$`) }).click();
  }
  await page.getByLabel(either('username')).fill(username);
  await page.getByLabel(either('password')).fill(PASSWORD);
  await page.getByRole('button', { name: either('submit') }).click();
  await expect(page.getByTestId('user')).toContainText(username);
}

/**
 * The screens only an administrator has (Device & settings, and File transfer where the user's role does not move
 * files): logged out (the login screen swept too), in again as the device's administrator, still in Setswana.
 */
async function asAdministrator(page: Page, info: TestInfo, app: string, screens: (keyof typeof tn.nav)[]): Promise<void> {
  await page.getByRole('button', { name: tn.common.logOut }).click();
  await expect(page.getByRole('button', { name: tn.login.submit })).toBeVisible();
  await sweep(page, info, `${app}-login`);
  // Nothing typed: the refusals in the user's words, next to their boxes.
  await page.getByRole('button', { name: tn.login.submit }).click();
  await expect(page.getByText(tn.login.needUsername)).toBeVisible();
  await expect(page.getByText(tn.login.needPassword)).toBeVisible();
  await sweep(page, info, `${app}-login-empty`);
  await signIn(page, null, 'admin');
  for (const screen of screens) {
    await go(page, screen);
    if (screen === 'device') {
      await expect(page.getByTestId('keys-state')).toBeVisible();
      await expect(page.getByTestId('language').last()).toHaveValue(/Setswana/);
      // Each setting in words, its name for `config set` under it.
      await expect(page.getByRole('textbox', { name: tn.device.setting.siteCode, exact: true })).toHaveValue('S01');
    }
    await sweep(page, info, `${app}-${screen}`);
  }
}

/** A screen by its Setswana name in the nav. */
async function go(page: Page, screen: keyof typeof tn.nav): Promise<void> {
  await page.getByRole('navigation', { name: tn.nav.label }).getByRole('link', { name: tn.nav[screen], exact: true }).click();
  await expect(page.getByRole('heading', { level: 2 }).first()).toBeVisible();
}

/** The nav lists exactly these screens (so none is left out of the sweep). */
async function navIs(page: Page, screens: (keyof typeof tn.nav)[]): Promise<void> {
  await expect(page.getByRole('navigation', { name: tn.nav.label }).getByRole('link')).toHaveText(screens.map((s) => tn.nav[s]));
}

// eslint-disable-next-line no-empty-pattern -- the browser context is the describe's, shared by the four apps
test('the RA’s field laptop in Setswana: every screen, a participant’s page, forms, corrections, labels, pending, sync', async ({}, info) => {
  const page = await context.newPage();
  await login(page, url.field, 'ra');

  // English first: the check finds the words of the screen (so it can fail).
  await openScreen(page, en.nav.entry);
  await expect(page.getByTestId('subject-row').first()).toBeVisible();
  expect(await englishLeft(page)).toEqual(expect.arrayContaining([en.entry.title, en.entry.findLabel, en.nav.pending, en.common.logOut]));
  // A tube's test and specimen are words of the catalogue too (the stored codes are English).
  await page.getByTestId('subject-row').filter({ hasText: amara }).getByRole('button').click();
  await expect(page.getByTestId('requisition-row')).toHaveCount(3);
  expect(await englishLeft(page)).toEqual(expect.arrayContaining([en.values.panel['Viral load'], en.values.panel.Chemistry, en.values.specimenType['whole blood'], en.values.specimenType.serum, 'Apr']));
  await page.getByRole('button', { name: en.entry.backToList }).click();

  await chooseSetswana(page);
  await navIs(page, ['status', 'entry', 'pending', 'share']);

  await go(page, 'entry');
  await expect(page.getByTestId('deleted-row')).toHaveCount(2);
  await sweep(page, info, 'field-entry-list');
  await page.getByTestId('register-open').click();
  await sweep(page, info, 'field-entry-register');

  // Amara's page: consent, the visit with its tubes and labels, the forms, the history.
  await page.getByTestId('subject-row').filter({ hasText: amara }).getByRole('button').click();
  await expect(page.getByTestId('subject-title')).toContainText('Okafor-Bello');
  await expect(page.getByTestId('subject-born')).toContainText('12 Mor 1990');
  await expect(page.getByTestId('requisition-row')).toHaveCount(3);
  await expect(page.getByTestId('specimen-label')).toHaveCount(3);
  await expect(page.getByTestId('history-row').first()).toBeVisible();
  await sweep(page, info, 'field-participant');
  await page.getByRole('tab').nth(1).click();
  await expect(page.getByTestId('vital-weightKg')).toBeVisible();
  await sweep(page, info, 'field-vitals');
  await page.getByRole('tab').nth(2).click();
  await sweep(page, info, 'field-medical-history');

  // Corrections: the participant's details, a tube's test, its draw time, a visit, a delete.
  const dialog = page.getByRole('dialog');
  await page.getByTestId('subject-correct').click();
  await expect(dialog.getByTestId('change-save')).toBeVisible();
  await sweep(page, info, 'field-correct-participant');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await page.getByRole('tab').first().click();
  await page.getByTestId('requisition-row').first().getByTestId('record-correct').click();
  await dialog.getByRole('textbox').first().click();
  await expect(page.getByRole('option').first()).toBeVisible();
  await sweep(page, info, 'field-correct-tube');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await page.getByTestId('requisition-row').first().getByTestId('correct-open').click();
  await expect(dialog.getByTestId('correct-save')).toBeVisible();
  await sweep(page, info, 'field-correct-draw-time');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await page.getByTestId('visit').getByTestId('record-correct').first().click();
  await expect(dialog.getByTestId('change-save')).toBeVisible();
  await sweep(page, info, 'field-correct-visit');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await page.getByTestId('subject-delete').click();
  await expect(dialog.getByTestId('delete-warning')).toBeVisible();
  await sweep(page, info, 'field-delete-participant');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  // Changes waiting to be sent, one opened.
  await go(page, 'pending');
  await page.getByTestId('pending-table').getByRole('button').first().click();
  await expect(page.getByTestId('tx-content')).toBeVisible();
  await sweep(page, info, 'field-pending-open');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await sweep(page, info, 'field-pending');

  await go(page, 'share');
  await sweep(page, info, 'field-share');
  await page.getByTestId('share-start').click();
  await expect(page.getByTestId('share-code')).toBeVisible();
  await sweep(page, info, 'field-share-open');
  await page.getByRole('button', { name: tn.share.stop }).click();
  await expect(page.getByTestId('share-result')).toBeVisible();
  await sweep(page, info, 'field-share-closed');
  await go(page, 'status');
  await expect(page.getByTestId('server-state')).toHaveText(tn.status.serverReachable);
  await sweep(page, info, 'field-status');
  await page.getByTestId('sync-button').click();
  await expect(page.getByTestId('pending-server')).toHaveText('0');
  await expect(page.getByTestId('sync-result')).toBeVisible();
  await sweep(page, info, 'field-status-synced');
  await asAdministrator(page, info, 'field', ['files', 'device']);
  await page.close();
});

// eslint-disable-next-line no-empty-pattern -- the browser context is the describe's, shared by the four apps
test('the driver’s laptop in Setswana: pull from the laptop, reconcile, custody, pending, devices, conflicts, sync', async ({}, info) => {
  // The RA lets the driver pull (the laptop's app, already in Setswana in this browser).
  const field = await context.newPage();
  await signIn(field, url.field, 'ra');
  await field.getByRole('navigation', { name: tn.nav.label }).getByRole('link', { name: tn.nav.share, exact: true }).click();
  await field.getByTestId('share-start').click();
  const shareUrl = (await field.getByTestId('share-url').textContent())!;
  const code = (await field.getByTestId('share-code').textContent())!;

  const page = await context.newPage();
  await login(page, url.middleman, 'kagiso');
  await chooseSetswana(page);
  await navIs(page, ['status', 'pending', 'pull', 'reconcile', 'custody', 'devices', 'conflicts']);
  await go(page, 'status');
  await expect(page.getByTestId('server-state')).toBeVisible();
  await sweep(page, info, 'driver-status');

  await go(page, 'pull');
  await sweep(page, info, 'driver-pull');
  await page.getByTestId('pull-url').fill(shareUrl);
  await page.getByTestId('pull-code').fill(code);
  await page.getByTestId('pull-start').click();
  await expect(page.getByTestId('pull-result')).toContainText('ra-01', { timeout: 30_000 });
  await sweep(page, info, 'driver-pulled');
  await field.close();

  // Reconcile the pull: one tube scanned, the lists, the Finish dialog.
  await go(page, 'reconcile');
  await expect(page.getByTestId('tube-row').first()).toBeVisible();
  await sweep(page, info, 'driver-reconcile');
  const tube = (await page.getByTestId('tube-row').first().getAttribute('data-code')) ?? (await page.getByTestId('tube-row').first().locator('td').first().innerText());
  await page.getByTestId('scan-box').fill(tube.trim());
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('scan-banner')).toBeVisible();
  await sweep(page, info, 'driver-reconcile-scanned');
  await page.getByTestId('reconcile-finish').click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await sweep(page, info, 'driver-reconcile-finish');
  await page.keyboard.press('Escape');

  await go(page, 'custody');
  await page.getByTestId('custody-tube').fill(tube.trim());
  await page.getByTestId('custody-show').click();
  await expect(page.getByTestId('custody-chain')).toBeVisible();
  await sweep(page, info, 'driver-custody');

  await go(page, 'pending');
  await page.getByTestId('pending-source').click();
  await page.getByRole('option', { name: tn.pending.forwarding }).click();
  await expect(page.getByTestId('pending-table').getByRole('row').nth(1)).toBeVisible();
  await sweep(page, info, 'driver-pending-forwarding');

  await go(page, 'devices');
  await expect(page.getByTestId('device-row').first()).toBeVisible();
  await sweep(page, info, 'driver-devices');
  await go(page, 'conflicts');
  await sweep(page, info, 'driver-conflicts');

  await go(page, 'status');
  await page.getByTestId('sync-button').click();
  await expect(page.getByTestId('sync-result')).toBeVisible({ timeout: 30_000 });
  await sweep(page, info, 'driver-status-synced');
  await asAdministrator(page, info, 'driver', ['files', 'device']);
  await page.close();
});

// eslint-disable-next-line no-empty-pattern -- the browser context is the describe's, shared by the four apps
test('the site server in Setswana: a lab assistant’s and a data manager’s screens, a hand-over opened, the inspector', async ({}, info) => {
  const page = await context.newPage();
  await login(page, url.site, 'lab');
  await chooseSetswana(page);
  await navIs(page, ['status', 'reconcile', 'custody', 'timeToLab', 'files', 'batches', 'devices']);
  await go(page, 'status');
  await expect(page.getByTestId('records')).toBeVisible();
  await sweep(page, info, 'lab-status');

  await go(page, 'reconcile');
  await sweep(page, info, 'lab-reconcile');
  await page.getByTestId('scope-select').click();
  await page.getByRole('option').first().click();
  await expect(page.getByTestId('scanned-of')).toBeVisible();
  await sweep(page, info, 'lab-reconcile-scope');

  await go(page, 'custody');
  await expect(page.getByTestId('custody-flagged-none').or(page.getByTestId('custody-flagged'))).toBeVisible();
  await sweep(page, info, 'lab-custody');

  await go(page, 'timeToLab');
  await page.getByTestId('ttl-from').fill('2026-01-01');
  await page.getByTestId('ttl-show').click();
  await expect(page.getByTestId('ttl-overall')).toBeVisible();
  await sweep(page, info, 'lab-time-to-lab');

  await go(page, 'files');
  await sweep(page, info, 'lab-files');

  await go(page, 'batches');
  await expect(page.getByTestId('batch-row').first()).toBeVisible();
  await sweep(page, info, 'lab-batches');
  await page.getByTestId('batch-expand').first().click();
  await expect(page.getByTestId('session-detail').getByTestId('tx-row').first()).toBeVisible();
  await sweep(page, info, 'lab-batch-open');
  await page.getByTestId('session-detail').getByTestId('tx-inspect').first().click();
  await expect(page.getByTestId('inspector-hops')).toBeVisible();
  await sweep(page, info, 'lab-inspector');
  await page.keyboard.press('Escape');

  await go(page, 'devices');
  await expect(page.getByTestId('device-row').first()).toBeVisible();
  await sweep(page, info, 'lab-devices');

  // The data manager: conflicts, and a change's content in the inspector.
  await page.getByRole('button', { name: tn.common.logOut }).click();
  await signIn(page, null, 'dm');
  await go(page, 'conflicts');
  await expect(page.getByTestId('conflict')).toHaveCount(1);
  await sweep(page, info, 'dm-conflicts');
  await go(page, 'batches');
  await expect(page.getByTestId('reason-group').first()).toBeVisible();
  await sweep(page, info, 'dm-batches');
  await page.getByTestId('batch-expand').first().click();
  await page.getByTestId('session-detail').getByTestId('tx-inspect').first().click();
  await expect(page.getByTestId('inspector-content').or(page.getByTestId('inspector-content-error'))).toBeVisible();
  await sweep(page, info, 'dm-inspector');
  await page.keyboard.press('Escape');
  await asAdministrator(page, info, 'site', ['device', 'devices']);
  await page.getByTestId('pair-open').click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await sweep(page, info, 'site-devices-pair');
  await page.keyboard.press('Escape');
  await page.close();
});

// eslint-disable-next-line no-empty-pattern -- the browser context is the describe's, shared by the four apps
test('the central server in Setswana: status, custody, the site’s files, the inspector, devices, conflicts', async ({}, info) => {
  const page = await context.newPage();
  await login(page, url.central, 'dm');
  await chooseSetswana(page);
  await navIs(page, ['status', 'custody', 'batches', 'devices', 'conflicts']);
  await go(page, 'status');
  await expect(page.getByTestId('records')).toBeVisible();
  await sweep(page, info, 'central-status');
  await go(page, 'custody');
  await sweep(page, info, 'central-custody');
  await go(page, 'batches');
  await expect(page.getByTestId('batch-row').first()).toBeVisible();
  await sweep(page, info, 'central-batches');
  await page.getByTestId('batch-expand').first().click();
  await page.getByTestId('session-detail').getByTestId('tx-inspect').first().click();
  await expect(page.getByTestId('inspector-hops')).toBeVisible();
  await sweep(page, info, 'central-inspector');
  await page.keyboard.press('Escape');
  await go(page, 'devices');
  await sweep(page, info, 'central-devices');
  await go(page, 'conflicts');
  await sweep(page, info, 'central-conflicts');
  await asAdministrator(page, info, 'central', ['device']);
  await page.close();
});
