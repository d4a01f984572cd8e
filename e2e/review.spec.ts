/**
 * Site review at scale: two laptops sync (one of them twice, in several requests each; the other with a key the site
 * does not have), a third arrives as a file. The lab assistant sees one row per hand-over, the failures as one line
 * with a count, the devices and who can act, filters "with problems" and by device, opens a hand-over to its parts
 * and changes, and inspects a failed change: the envelope and where it has been, not its content. A data manager
 * opens the same change by its id and sees the content. axe passes on the opened screen and the inspector.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { Store } from '../electron/core/store.ts';
import { pushAsOlderApp } from '../electron/core/testing/processes.ts';
import { expect, login, openScreen, shot, test } from './fixtures.ts';
import { englishLeft } from './locale.ts';

async function axe(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

test('the site reviews hand-overs grouped by sync session, filters problems and inspects a change', async ({ lab, page, browser }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'lab', 'lab-assistant');
  lab.user('site-01', 'dm', 'data-manager');
  lab.device('ra-01', 'field');
  lab.device('ra-02', 'field');
  lab.device('ra-03', 'field');
  const siteUrl = await lab.serve('site-01');
  lab.pair('ra-01', 'site-01', siteUrl);
  lab.pair('ra-02', 'site-01', siteUrl);
  lab.pair('ra-03', 'site-01', siteUrl); // paired at the site when it was set up; the site takes data only from its devices
  // ra-01 syncs twice, each sync in several requests of 5 changes.
  lab.cli('ra-01', ['seed', '--subjects', '3']);
  lab.cli('ra-01', ['push', '--batch-size', '5']);
  lab.cli('ra-01', ['seed', '--subjects', '2', '--seed', '2']);
  lab.cli('ra-01', ['push', '--batch-size', '5']);
  // ra-02 rotated its key and the site never got the new one: part of its sync cannot be read.
  lab.cli('ra-02', ['seed', '--subjects', '1']);
  lab.cli('ra-02', ['keys', 'rotate']);
  lab.cli('ra-02', ['seed', '--subjects', '2', '--seed', '7']);
  // An app of an older version pushes it all (today's keeps what the site cannot read back at pre-flight, with the reason).
  const older = Store.open(lab.dir('ra-02'));
  try {
    await pushAsOlderApp(older, 5);
  } finally {
    older.close();
  }
  // ra-03 has no network in the field: its changes come as a file.
  lab.cli('ra-03', ['seed', '--subjects', '1']);
  const usb = lab.dir('usb');
  lab.cli('ra-03', ['export', '--out', usb]);
  lab.cli('site-01', ['import', '--dir', usb]);

  await login(page, siteUrl, 'lab');
  await openScreen(page, 'Consumed batches');
  // One row per hand-over: two syncs of ra-01, one of ra-02, one file; each sync took several requests.
  await expect(page.getByTestId('batch-row')).toHaveCount(4);
  await expect(page.getByTestId('batches-pager-count')).toHaveText('Showing 1–4 of 4');
  await expect(page.getByTestId('batch-device')).toHaveText([/ra-03/, 'ra-02', 'ra-01', 'ra-01']);
  for (const parts of await page.getByTestId('batch-parts').allTextContents()) expect(Number(parts)).toBeGreaterThanOrEqual(1);
  expect(Number(await page.getByTestId('batch-parts').nth(3).textContent())).toBeGreaterThan(1);
  // The failures as one line: a count, the device, and who can act (not the lab assistant: an administrator).
  const group = page.getByTestId('reason-group');
  await expect(group).toHaveCount(1);
  await expect(group).toContainText(/\d+ changes? could not be applied/);
  await expect(group.getByTestId('reason-devices')).toHaveText('Made on ra-02.');
  await expect(group.getByTestId('reason-advice')).toContainText('an administrator imports the newer key file');
  await expect(group.getByTestId('reason-advice')).toContainText('Device & settings');
  // Why ra-02's changes wait here, per device, in a sentence that says who acts (issue 9: every wait named).
  const keyWait = page.locator('[data-testid="producer-wait"][data-producer="ra-02"][data-kind="key"]');
  await expect(keyWait).toContainText(/^\d+ changes? from ra-02 uses? a key this device does not have \(k-/);
  await expect(keyWait).toContainText('An administrator imports the newer key set on this device; then Retry.');
  await expect(page.locator('[data-testid="producer-wait"][data-producer="ra-01"]')).toHaveCount(0);
  await shot(page, info, 'review-sessions');

  // The Status screen says the same.
  await openScreen(page, 'Status');
  await expect(page.locator('[data-testid="producer-wait"][data-producer="ra-02"][data-kind="key"]')).toContainText('a key this device does not have');
  await openScreen(page, 'Consumed batches');

  // With problems: only ra-02's sync.
  await page.getByTestId('filter-problems').getByText(/With problems/).click();
  await expect(page.getByTestId('batch-row')).toHaveCount(1);
  await expect(page.getByTestId('batch-device')).toHaveText('ra-02');
  await expect(page.getByTestId('batches-pager-count')).toHaveText('Showing 1–1 of 1');
  await shot(page, info, 'review-with-problems');

  // Its details: the failed changes with the reason in plain words, each with "Open".
  await page.getByTestId('batch-expand').click();
  const detail = page.getByTestId('session-detail');
  await expect(detail).toBeVisible();
  await expect(detail.getByTestId('tx-row').first()).toContainText('failed');
  await expect(detail.getByTestId('tx-reason').first()).toContainText('newer study key');
  // The changes are paged too: all 46 of this sync, 25 a page.
  await detail.getByTestId('session-toggle-problems').click();
  await expect(detail.getByTestId('tx-pager-count')).toHaveText(/^Showing 1–25 of \d+$/);
  const allChanges = Number((await detail.getByTestId('tx-pager-count').textContent())!.split(' of ')[1]);
  await detail.getByRole('button', { name: 'Page 2' }).click();
  await expect(detail.getByTestId('tx-pager-count')).toHaveText(`Showing 26–${Math.min(50, allChanges)} of ${allChanges}`);
  await detail.getByTestId('session-toggle-problems').click();
  await expect(detail.getByTestId('tx-row').first()).toContainText('failed');
  await shot(page, info, 'review-session-detail');
  expect(await axe(page)).toEqual([]);

  // The inspector: envelope, where it has been, no content for the lab assistant.
  await detail.getByTestId('tx-inspect').first().click();
  const inspector = page.getByTestId('inspector');
  await expect(inspector.getByTestId('inspector-producer')).toHaveText('ra-02');
  await expect(inspector.getByTestId('inspector-state')).toHaveText('failed');
  await expect(inspector.getByTestId('inspector-hop')).toHaveCount(3);
  await expect(inspector.getByTestId('inspector-hops')).toContainText('Received here from ra-02');
  await expect(inspector.getByTestId('inspector-hops')).toContainText('Could not be applied here');
  await expect(inspector.getByTestId('inspector-content-hidden')).toContainText('Your role sees the envelope');
  await expect(inspector.getByTestId('inspector-content')).toHaveCount(0);
  const failedId = (await inspector.getByTestId('inspector-id').textContent())!;
  await shot(page, info, 'inspector-lab-assistant');
  expect(await axe(page)).toEqual([]);
  await page.keyboard.press('Escape');

  // By device: ra-01's two syncs.
  await page.getByTestId('filter-problems').getByText('All', { exact: true }).click();
  await page.getByTestId('filter-device').click();
  await page.getByRole('option', { name: /^ra-01 ·/ }).click();
  await expect(page.getByTestId('batch-row')).toHaveCount(2);
  await expect(page.getByTestId('batch-device')).toHaveText(['ra-01', 'ra-01']);
  await shot(page, info, 'review-by-device');

  // A data manager opens an applied change of ra-01 and sees its content and history, then the failed one by id.
  await page.getByTestId('batch-expand').first().click();
  await page.getByTestId('session-detail').getByTestId('tx-inspect').first().click();
  await expect(page.getByTestId('inspector-content-hidden')).toBeVisible();
  const appliedId = (await page.getByTestId('inspector-id').textContent())!;
  await page.keyboard.press('Escape');

  const dm = await (await browser.newContext()).newPage();
  await login(dm, siteUrl, 'dm');
  await openScreen(dm, 'Consumed batches');
  await dm.getByLabel('Open a change by its id').fill(appliedId);
  await dm.getByTestId('open-by-id-button').click();
  await expect(dm.getByTestId('inspector-state')).toHaveText('applied');
  await expect(dm.getByTestId('inspector-content')).toBeVisible();
  await expect(dm.getByTestId('inspector-content-hidden')).toHaveCount(0);
  await expect(dm.getByTestId('inspector-history-row').first()).toContainText('this change');
  await expect(dm.getByTestId('inspector-hops')).toContainText('Applied here');
  await shot(dm, info, 'inspector-data-manager');
  await dm.keyboard.press('Escape');
  await dm.getByLabel('Open a change by its id').fill(failedId);
  await dm.getByTestId('open-by-id-button').click();
  await expect(dm.getByTestId('inspector-content-error')).toContainText('newer study key');
  await dm.keyboard.press('Escape');
  // An id that is not here: a plain sentence.
  await dm.getByLabel('Open a change by its id').fill('01900000-0000-7000-8000-000000000000');
  await dm.getByTestId('open-by-id-button').click();
  await expect(dm.getByTestId('inspector-error')).toContainText('That change is not waiting here');
  await dm.keyboard.press('Escape');
  // The draft second locale: the screen's own words all come from the catalogue.
  await dm.getByTestId('language').first().click();
  await dm.getByRole('option', { name: /Setswana/ }).click();
  await expect(dm.getByRole('heading', { level: 2 })).toHaveText('Data e e amogetsweng');
  await expect(dm.getByText('Se se fitlhileng')).toBeVisible();
  for (const english of ['What arrived', 'What needs a look', 'Open a change by its id', 'With problems', 'Show details', 'Brought by']) {
    await expect(dm.getByText(english)).toHaveCount(0);
  }
  expect(await englishLeft(dm)).toEqual([]);
  await shot(dm, info, 'review-setswana');
  await dm.context().close();
});
