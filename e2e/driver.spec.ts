/**
 * Driver and lab assistant story at field scale, on a 1024×600 netbook screen, with a real scanner's behaviour
 * (keystrokes a few milliseconds apart, then Enter, sent to whatever has focus):
 * a laptop with 500 subjects (1,000+ older tubes) lets the driver pull; the RA draws three tubes; a second pull
 * brings just those; the driver scans them (right after choosing the hand-over, after clicking elsewhere, a
 * duplicate, an unknown tube, a misread check character): 3 of 3. The older pull is closed with a reason for every
 * missing tube and a confirmation. At the site the lab assistant reconciles what the driver delivered.
 */
import type { Page, TestInfo } from '@playwright/test';
import Database from 'better-sqlite3';
import path from 'node:path';
import { DB_FILE } from '../electron/core/store.ts';
import { requisitionIdentifier } from '../shared/identifiers.ts';
import { expect, login, openScreen, registerWithSpecimens, shot, test } from './fixtures.ts';

const NETBOOK = { width: 1024, height: 600 };

/** A scanner: the code typed fast into whatever has focus, then Enter. */
async function scanner(page: Page, code: string): Promise<void> {
  await page.keyboard.type(code, { delay: 4 });
  await page.keyboard.press('Enter');
}

/** What the netbook's screen shows, as it is (not grown to the page). */
async function screen(page: Page, info: TestInfo, name: string): Promise<void> {
  const file = info.outputPath(`${name}.png`);
  await page.screenshot({ path: file });
  await info.attach(name, { path: file, contentType: 'image/png' });
}

async function share(field: Page): Promise<{ url: string; code: string }> {
  await openScreen(field, 'Let the driver pull');
  await field.getByRole('textbox', { name: 'Network address to share on' }).click();
  await field.getByRole('option', { name: '127.0.0.1' }).click();
  await field.getByTestId('share-start').click();
  return { url: (await field.getByTestId('share-url').textContent())!, code: (await field.getByTestId('share-code').textContent())! };
}

async function pullFrom(mm: Page, s: { url: string; code: string }): Promise<number> {
  await openScreen(mm, 'Pull from laptop');
  await mm.getByTestId('pull-url').fill(s.url);
  await mm.getByTestId('pull-code').fill(s.code);
  await mm.getByTestId('pull-start').click();
  await expect(mm.getByTestId('pull-result')).toContainText('from ra-02', { timeout: 90_000 });
  return Number((await mm.getByTestId('pull-result').textContent())!.match(/Pulled ([\d,]+) new/)![1]!.replaceAll(',', ''));
}

test('driver reconciles one pull out of 1,000+ older tubes by scanner; the lab receives what the driver delivered', async ({ lab, browser }, info) => {
  test.setTimeout(300_000);
  lab.device('site-01', 'site');
  lab.device('ra-02', 'field');
  lab.device('mm-01', 'middleman');
  lab.user('ra-02', 'ra', 'research-assistant');
  lab.user('mm-01', 'driver', 'research-assistant');
  lab.user('site-01', 'lab', 'lab-assistant');
  lab.cli('ra-02', ['seed', '--subjects', '500']);
  const siteUrl = await lab.serve('site-01');
  lab.pair('mm-01', 'site-01', siteUrl);
  lab.pair('ra-02', 'site-01', siteUrl); // the site knows every laptop whose data a middleman brings
  const fieldUrl = await lab.serve('ra-02');
  const mmUrl = await lab.serve('mm-01');

  const field = await (await browser.newContext()).newPage();
  await login(field, fieldUrl, 'ra');
  const mm = await (await browser.newContext({ viewport: NETBOOK })).newPage();
  await login(mm, mmUrl, 'driver');

  // First pull: everything the laptop holds. The laptop shows live progress and the whole count at the end.
  const first = await share(field);
  await field.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { progressSeen: string[] }).progressSeen = seen;
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid="share-progress"]')?.textContent;
      if (t && seen.at(-1) !== t) seen.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const pulledFirst = await pullFrom(mm, first);
  expect(pulledFirst).toBeGreaterThan(5000);
  await expect(field.getByTestId('share-result')).toContainText(`${pulledFirst.toLocaleString('en')} changes went to the driver`);
  const seen = await field.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
  expect(seen.some((t) => /^[\d,]+ of [\d,]+ taken$/.test(t))).toBe(true);
  await shot(field, info, 'field-first-pull-done');

  // The RA draws three tubes today; the second pull brings only the new transactions.
  const tubes = await registerWithSpecimens(field, info, { first: 'Kagiso', last: 'Molefe', identity: '7705125001083' }, ['CD4', 'Full blood count', 'Stored plasma']);
  // Labels print one per page of the label stock (50×25 mm by default), anchored top-left.
  await field.emulateMedia({ media: 'print' });
  const box = (await field.getByTestId('print-label').first().boundingBox())!;
  expect([Math.round(box.x), Math.round(box.y)]).toEqual([0, 0]);
  expect(Math.round(box.width)).toBe(Math.round((50 / 25.4) * 96));
  expect(await field.getByTestId('print-label').first().evaluate((el) => getComputedStyle(el).breakAfter)).toBe('page');
  await field.emulateMedia({ media: 'screen' });
  const second = await share(field);
  const pulledSecond = await pullFrom(mm, second);
  expect(pulledSecond).toBeLessThan(20);
  await expect(field.getByTestId('share-result')).toContainText(`${pulledSecond} changes went to the driver`);

  // Reconcile: this pull by default, 3 tubes, not the 1,000+ older ones.
  await openScreen(mm, 'Specimen reconciliation');
  await expect(mm.getByTestId('scanned-of')).toHaveText('0 of 3 scanned');
  await expect(mm.getByTestId('reconcile-finish')).toBeInViewport();
  await expect(mm.getByTestId('since-draw').first()).toContainText(/drawn \d+ min ago/);
  await screen(mm, info, 'netbook-1-this-pull');

  // Choose "today's tubes from laptop ra-02" and scan at once: the code goes to the scan box, not the dropdown.
  await mm.getByTestId('scope-select').click();
  await mm.getByRole('option', { name: 'Today’s tubes from laptop ra-02' }).click();
  await scanner(mm, tubes[0]!);
  await expect(mm.getByTestId('scan-banner')).toHaveAttribute('data-result', 'matched');
  await expect(mm.getByTestId('scan-banner')).toContainText(tubes[0]!);
  await expect(mm.getByTestId('scanned-of')).toHaveText('1 of 3 scanned');
  await screen(mm, info, 'netbook-2-scan-after-choosing');

  // Back to the pull itself; click elsewhere on the page, then scan.
  await mm.getByTestId('scope-select').click();
  await mm.getByRole('option', { name: /^Pull from ra-02.*\(3 tubes\)$/ }).click();
  await expect(mm.getByTestId('scanned-of')).toHaveText('0 of 3 scanned');
  await mm.getByRole('tab', { name: /Matched/ }).click();
  await scanner(mm, tubes[0]!);
  await expect(mm.getByTestId('scan-banner')).toHaveAttribute('data-result', 'matched');
  const sounds = new Set([await mm.getByTestId('scan-banner').getAttribute('data-sound')]);
  await mm.getByTestId('reconcile-bar').click();
  await scanner(mm, tubes[1]!);
  await expect(mm.getByTestId('scanned-of')).toHaveText('2 of 3 scanned');
  await expect(mm.getByTestId('scan-box')).toBeFocused();

  // A duplicate, an unknown tube and a misread check character: each its own banner (and sound); none counted twice.
  await scanner(mm, tubes[1]!);
  await expect(mm.getByTestId('scan-banner')).toHaveAttribute('data-result', 'duplicate');
  await expect(mm.getByTestId('scan-banner')).toContainText('Already scanned');
  sounds.add(await mm.getByTestId('scan-banner').getAttribute('data-sound'));
  await screen(mm, info, 'netbook-3-duplicate');
  const stranger = requisitionIdentifier('ra-77', 12);
  await scanner(mm, stranger);
  await expect(mm.getByTestId('scan-banner')).toHaveAttribute('data-result', 'unexpected');
  await expect(mm.getByTestId('scan-banner')).toContainText('set it aside');
  sounds.add(await mm.getByTestId('scan-banner').getAttribute('data-sound'));
  await screen(mm, info, 'netbook-4-unexpected');
  const misread = `${tubes[2]!.slice(0, -1)}${tubes[2]!.endsWith('A') ? 'B' : 'A'}`;
  await scanner(mm, misread);
  await expect(mm.getByTestId('scan-banner')).toHaveAttribute('data-result', 'invalid');
  await expect(mm.getByTestId('scan-banner')).toContainText('wrong check character');
  sounds.add(await mm.getByTestId('scan-banner').getAttribute('data-sound'));
  await screen(mm, info, 'netbook-5-bad-check-character');
  expect(sounds.size).toBe(4);
  await scanner(mm, tubes[2]!);
  await expect(mm.getByTestId('scanned-of')).toHaveText('3 of 3 scanned');
  await expect(mm.getByTestId('unexpected-count')).toHaveText('1');
  await expect(mm.getByTestId('missing-count')).toHaveText('0');
  await screen(mm, info, 'netbook-6-three-of-three');

  // Finish: the unexpected tube needs a reason (keyboard only, from the Finish button).
  await mm.getByTestId('reconcile-finish').focus();
  await mm.keyboard.press('Enter');
  const dialog = mm.getByRole('dialog');
  await expect(dialog.getByTestId('finish-summary')).toHaveText('3 matched, 0 missing, 1 unexpected.');
  await expect(dialog.getByTestId('finish-confirm')).toBeDisabled();
  await dialog.getByRole('textbox', { name: `Reason for ${stranger}` }).click();
  await mm.getByRole('option', { name: 'Set aside for the lab' }).click();
  await screen(mm, info, 'netbook-7-finish-reasons');
  await dialog.getByTestId('finish-confirm').click();
  await expect(mm.getByTestId('reconcile-result')).toContainText('3 matched, 0 missing, 1 unexpected');

  // The older pull: nothing scanned. Finish asks for a reason for each of the 1,000+ missing tubes and confirms the count.
  await mm.getByTestId('scope-select').click();
  await mm.getByRole('option', { name: /^Pull from ra-02.*\(1,?\d{3} tubes\)$/ }).click();
  await expect(mm.getByTestId('scanned-of')).toHaveText(/^0 of 1,\d{3} scanned$/);
  const older = Number((await mm.getByTestId('scanned-of').textContent())!.match(/of ([\d,]+) scanned/)![1]!.replace(',', ''));
  expect(older).toBeGreaterThan(1000);
  await mm.getByTestId('reconcile-finish').click();
  await expect(dialog.getByTestId('finish-needs')).toHaveText(`${older.toLocaleString('en')} tubes still need a reason.`);
  await dialog.getByRole('textbox', { name: 'Reason for every missing tube' }).click();
  await mm.getByRole('option', { name: 'Left with the research assistant' }).click();
  const oneTube = (await dialog.getByTestId('tube-row').first().locator('td').first().textContent())!;
  await dialog.getByRole('textbox', { name: `Reason for ${oneTube}` }).click();
  await mm.getByRole('option', { name: 'Other (say what)' }).click();
  await expect(dialog.getByTestId('finish-needs')).toHaveText('1 tube still needs a reason.');
  await dialog.getByRole('textbox', { name: `What happened to ${oneTube}` }).fill('given to the clinic nurse');
  await expect(dialog.getByTestId('finish-confirm')).toHaveText(`Save with ${older.toLocaleString('en')} missing`);
  await screen(mm, info, 'netbook-8-finish-many-missing');
  await dialog.getByTestId('finish-confirm').click();
  await expect(mm.getByTestId('reconcile-result')).toContainText(`0 matched, ${older.toLocaleString('en')} missing, 0 unexpected`);

  await openScreen(mm, 'Status');
  await mm.getByTestId('sync-button').click();
  await expect(mm.getByTestId('sync-result')).toContainText('Nothing is waiting', { timeout: 90_000 });
  await expect.poll(() => lab.json<{ records: Record<string, number> }>('site-01', ['status']).records['edc.specimen_custody'], { timeout: 90_000 }).toBe(3); // two pulls, and the driver's signed offer of what it brings

  // The lab assistant receives what driver mm-01 delivered: the three tubes it scanned, not the ones left behind.
  const labPage = await (await browser.newContext({ viewport: NETBOOK })).newPage();
  await login(labPage, siteUrl, 'lab');
  await openScreen(labPage, 'Specimen reconciliation');
  await labPage.getByTestId('scope-select').click();
  await labPage.getByRole('option', { name: 'Delivered by driver mm-01' }).click();
  await expect(labPage.getByTestId('scanned-of')).toHaveText('0 of 3 scanned');
  await scanner(labPage, tubes[2]!);
  await scanner(labPage, tubes[0]!);
  await expect(labPage.getByTestId('scanned-of')).toHaveText('2 of 3 scanned');
  await expect(labPage.getByTestId('missing')).toContainText(tubes[1]!);
  await screen(labPage, info, 'lab-1-delivery-scanned');
  await labPage.getByTestId('reconcile-finish').click();
  const labDialog = labPage.getByRole('dialog');
  await labDialog.getByRole('textbox', { name: `Reason for ${tubes[1]!}` }).click();
  await labPage.getByRole('option', { name: 'Broken or leaked' }).click();
  await expect(labDialog.getByTestId('finish-confirm')).toHaveText('Save with 1 missing');
  await screen(labPage, info, 'lab-2-finish');
  await labDialog.getByTestId('finish-confirm').click();
  await expect(labPage.getByTestId('reconcile-result')).toContainText('2 matched, 1 missing, 0 unexpected');
  await expect(labPage.getByTestId('scanned-of')).toHaveText('0 of 1 scanned');
  await screen(labPage, info, 'lab-3-saved');

  // Chain of custody: each tube's hand-overs with both devices' clocks and signatures.
  await openScreen(labPage, 'Chain of custody');
  await expect(labPage.getByTestId('custody-flagged-none')).toBeVisible();
  await labPage.getByTestId('custody-tube').fill(tubes[0]!.toLowerCase());
  await labPage.keyboard.press('Enter');
  await expect(labPage.getByTestId('custody-step')).toHaveCount(2);
  await expect(labPage.getByTestId('custody-steps')).toContainText('drawn');
  await expect(labPage.getByTestId('custody-steps')).toContainText('taken by mm-01 from ra-02');
  await expect(labPage.getByTestId('custody-steps')).toContainText('received at the lab by site-01 from mm-01');
  await expect(labPage.getByTestId('custody-verified')).toBeVisible();
  await expect(labPage.getByTestId('custody-holder')).toHaveText('Held now by site-01, by the records.');
  await shot(labPage, info, 'custody-1-chain-verified');
  await labPage.getByTestId('custody-tube').fill(tubes[1]!);
  await labPage.getByTestId('custody-show').click();
  await expect(labPage.getByTestId('custody-step').last()).toHaveAttribute('data-outcome', 'missing');
  await expect(labPage.getByTestId('custody-steps')).toContainText('did not arrive at site-01: broken');
  await expect(labPage.getByTestId('custody-holder')).toHaveText('Held now by mm-01, by the records.');
  await shot(labPage, info, 'custody-2-missing-at-lab');

  // Someone edits the driver's pull record in the site's database with the sqlite3 shell: the chain no longer checks out.
  tamperCustody(lab.dir('site-01'), "UPDATE specimen_custody SET received_at = '2026-01-01T00:00:00.000Z' WHERE kind = 'pull' AND matched LIKE ?", `%${tubes[0]!}%`);
  await labPage.reload();
  await expect(labPage.getByTestId('custody-flagged-count')).toContainText('4 tubes need a look');
  await expect(labPage.getByTestId('custody-flagged')).toContainText('changed after it was signed');
  await labPage.getByRole('button', { name: `Show ${tubes[0]!}` }).click();
  await expect(labPage.getByTestId('custody-flag-bad-signature')).toBeVisible();
  await expect(labPage.getByTestId('custody-steps')).toContainText('signature does not check out');
  await shot(labPage, info, 'custody-3-tampered');
});

/** An edit with the plain sqlite3 shell (the write guard's function answering "allowed"), as an intruder would. */
function tamperCustody(dataDir: string, sql: string, ...params: string[]): void {
  const db = new Database(path.join(dataDir, DB_FILE));
  try {
    db.function('edc_write_guard', () => 1);
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}
