/**
 * Devices story: who still owes what. Three laptops reach the site (one directly, two through the driver: one of
 * those pulls is cut, one laptop's clock is 3 years back); the lab assistant's Devices screen puts them on top with
 * the reasons, sorts by any column and shows a clock's history; central sees the same from the site's files; the
 * driver sees the laptops visited today; the laptop's Status says where its changes are.
 */
import { spawnCli, startProxy, type Proc } from '../electron/core/testing/processes.ts';
import { expect, login, openScreen, shot, test, type Lab } from './fixtures.ts';

const BACK = { EDC_SYNC_TEST_CLOCK_OFFSET_MS: String(-3 * 365 * 24 * 3600_000) };

/** The laptop shares, the driver pulls (real processes); `cutAfter`: the driver's pull dies after that many. */
async function visit(lab: Lab, field: string, mm: string, opts: { env?: Record<string, string>; cutAfter?: number } = {}): Promise<void> {
  const share = spawnCli(['--data', lab.dir(field), 'share', '--host', '127.0.0.1', '--port', '0', '--json'], opts.env ?? {});
  try {
    const { url, code } = JSON.parse(await share.waitFor(/^\{"url":/, 30_000)) as { url: string; code: string };
    const box: { pull?: Proc } = {};
    const cut = opts.cutAfter;
    const proxy = cut ? await startProxy(url, async (_n, p) => { if (p.includes(`after=${cut}&`)) await box.pull!.kill('SIGKILL'); }) : null;
    box.pull = spawnCli(['--data', lab.dir(mm), 'pull', '--from', proxy?.url ?? url, '--code', code, ...(cut ? ['--page-size', String(cut)] : [])]);
    const exit = await box.pull.exited;
    await proxy?.close();
    if (!cut) expect(exit, box.pull.stderr.join(' | ')).toBe(0);
  } finally {
    await share.kill('SIGTERM');
  }
}

test('the Devices screen on the site, central and the driver\'s laptop; the laptop\'s changes per hop', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.device('central-01', 'central');
  lab.device('mm-01', 'middleman');
  for (const ra of ['ra-07', 'ra-08', 'ra-09']) lab.device(ra, 'field');
  lab.user('site-01', 'thandi', 'lab-assistant');
  lab.user('central-01', 'dm', 'data-manager');
  lab.user('mm-01', 'driver', 'research-assistant');
  lab.user('ra-08', 'ra', 'research-assistant');
  const siteUrl = await lab.serve('site-01');
  for (const d of ['mm-01', 'ra-07', 'ra-08', 'ra-09']) lab.pair(d, 'site-01', siteUrl);
  lab.cli('ra-07', ['seed', '--subjects', '3'], '', BACK); // its clock is 3 years back
  lab.cli('ra-08', ['seed', '--subjects', '2']);
  lab.cli('ra-09', ['seed', '--subjects', '4']);
  const made = (d: string) => lab.json<{ outgoing: { total: number } }>(d, ['status']).outgoing.total;

  // ra-08 syncs directly; the driver visits ra-07 (all) and ra-09 (cut after 10), then syncs with the site.
  lab.cli('ra-08', ['push']);
  await visit(lab, 'ra-07', 'mm-01', { env: BACK });
  await visit(lab, 'ra-09', 'mm-01', { cutAfter: 10 });
  lab.cli('mm-01', ['push']);

  const site = await (await browser.newContext()).newPage();
  await login(site, siteUrl, 'thandi');
  await openScreen(site, 'Devices');
  const rows = site.getByTestId('device-row');
  await expect(rows).toHaveCount(4);
  await expect(site.getByTestId('devices-summary')).toContainText('1 device still owes changes');
  // Those needing attention on top: ra-09 owes, ra-07's clock is off; then the two with nothing to say.
  await expect(rows.nth(0)).toHaveAttribute('data-device', 'ra-09');
  await expect(rows.nth(0).getByTestId('owes')).toHaveText(String(made('ra-09') - 10));
  await expect(rows.nth(0).getByTestId('flag-owing')).toBeVisible();
  await expect(rows.nth(1)).toHaveAttribute('data-device', 'ra-07');
  await expect(rows.nth(1).getByTestId('flag-clock-drift')).toBeVisible();
  await expect(rows.nth(1).getByTestId('clock')).toHaveText('3 years behind');
  await expect(site.locator('[data-device="ra-08"]').getByTestId('owes')).toHaveText('0');
  await shot(site, info, 'site-devices');

  // Any column sorts: "Made" ascending, then descending.
  await site.getByTestId('sort-made').click();
  await site.getByTestId('sort-made').click();
  await expect(site.getByTestId('sort-made').locator('..')).toHaveAttribute('aria-sort', /ascending|descending/);
  const madeCol = async () => (await rows.evaluateAll((trs) => trs.map((tr) => Number((tr.children[3]?.textContent ?? '').replace(/\D/g, '') || -1))));
  const sorted = await madeCol();
  expect([...sorted].sort((a, b) => b - a).join(',') === sorted.join(',') || [...sorted].sort((a, b) => a - b).join(',') === sorted.join(',')).toBe(true);
  await shot(site, info, 'site-devices-sorted');

  await site.locator('[data-device="ra-07"]').getByRole('button', { name: 'Clock history' }).click();
  await expect(site.getByTestId('clock-history')).toContainText('3 years behind');
  await expect(site.getByTestId('clock-history')).toContainText('through a driver');
  await shot(site, info, 'site-clock-history');
  await site.keyboard.press('Escape');

  // Central hears of them from the site's file (its manifest carries what the site heard).
  const usb = lab.dir('usb');
  lab.cli('site-01', ['export', '--out', usb]);
  lab.cli('central-01', ['import', '--dir', usb]);
  const centralUrl = await lab.serve('central-01');
  const central = await (await browser.newContext()).newPage();
  await login(central, centralUrl, 'dm');
  await openScreen(central, 'Devices');
  await expect(central.getByTestId('device-row').first()).toHaveAttribute('data-device', 'ra-09');
  await expect(central.locator('[data-device="ra-09"]').getByTestId('owes')).toHaveText(String(made('ra-09') - 10));
  await expect(central.locator('[data-device="site-01"]')).toBeVisible();
  await shot(central, info, 'central-devices');

  // The site's receipts come back (USB here): the site believes receipts signed by central's key, which its
  // administrator recorded once; the driver learns them at its next sync, the laptop at the next visit.
  const centralKey = lab.json<{ deviceId: string; publicKey: string }>('central-01', ['device-key']);
  lab.cli('site-01', ['trust', '--device-id', centralKey.deviceId, '--public-key', centralKey.publicKey]);
  expect(lab.cli('site-01', ['receipts', '--dir', usb])).toMatch(/^[1-9]\d* batch\(es\) acknowledged/);
  lab.cli('mm-01', ['push']);
  const mmUrl = await lab.serve('mm-01');
  const mm = await (await browser.newContext()).newPage();
  await login(mm, mmUrl, 'driver');
  await openScreen(mm, 'Devices');
  await expect(mm.getByTestId('devices-today')).toBeChecked();
  await expect(mm.getByTestId('device-row')).toHaveCount(2);
  await expect(mm.locator('[data-device="ra-07"]').getByTestId('flag-clock-drift')).toBeVisible();
  await shot(mm, info, 'middleman-devices-today');

  // ra-08 synced directly and its next sync asks again: all at the site, none at central until receipts say so.
  const fieldUrl = await lab.serve('ra-08');
  const field = await (await browser.newContext()).newPage();
  await login(field, fieldUrl, 'ra');
  await field.getByTestId('sync-button').click();
  await expect(field.getByTestId('sync-result')).toBeVisible();
  await expect(field.getByTestId('hop-central')).toHaveText(String(made('ra-08')));
  await expect(field.getByTestId('hop-here')).toHaveText('0');
  await shot(field, info, 'field-status-hops');
  await openScreen(field, 'Changes waiting to be sent');
  await field.getByRole('textbox', { name: 'Show' }).click();
  await field.getByRole('option', { name: 'all' }).click();
  await expect(field.getByTestId('hop').first()).toHaveText('At central');
  await shot(field, info, 'field-pending-hops');
});
