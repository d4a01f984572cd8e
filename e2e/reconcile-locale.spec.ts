/**
 * The site's specimen reconciliation in the draft Setswana locale: heading, choices, scan box, banners, tabs, tube
 * list and the Finish dialog all come from the catalogue, with none of the screen's English left (screenshots).
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { requisitionIdentifier } from '../shared/identifiers.ts';
import { tn } from '../shared/i18n/tn.ts';
import { expect, login, shot, test } from './fixtures.ts';
import { englishLeft } from './locale.ts';

async function axe(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** The screen's English (en.ts reconcile.*), none of which may be left once Setswana is chosen. */
const ENGLISH = [
  'Specimen reconciliation', 'scanned', 'Finish…', 'Delivered by', 'Location', 'Scan a tube', 'Missing', 'Matched', 'Unexpected',
  'Not on this list', 'Unreadable', 'is not in this hand-over', 'wrong check character', 'Filter', 'tube(s)', ' tubes', 'Finish this hand-over',
  'Back to scanning', 'What was done with each unexpected tube?', 'Choose a reason', 'still need',
];

async function noEnglish(page: Page): Promise<void> {
  const text = await page.locator('body').innerText();
  for (const e of ENGLISH) expect(text, e).not.toContain(e);
  // And none of the whole catalogue's English either (the tubes' tests and specimens included).
  expect(await englishLeft(page)).toEqual([]);
}

test('specimen reconciliation in the draft Setswana locale has no English left', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'lab', 'lab-assistant');
  lab.device('ra-01', 'field');
  const siteUrl = await lab.serve('site-01');
  lab.pair('ra-01', 'site-01', siteUrl);
  lab.cli('ra-01', ['seed', '--subjects', '2']);
  lab.cli('ra-01', ['push']);

  const page = await (await browser.newContext()).newPage();
  await login(page, siteUrl, 'lab');
  await page.getByTestId('language').first().click();
  await page.getByRole('option', { name: /Setswana/ }).click();
  await page.getByRole('navigation', { name: tn.nav.label }).getByRole('link', { name: tn.nav.reconcile }).click();
  await expect(page.getByRole('heading', { level: 2 })).toHaveText(tn.nav.reconcile);
  await expect(page.getByText(tn.reconcile.firstChoose)).toBeVisible();
  await noEnglish(page);

  await page.getByTestId('scope-select').click();
  await page.getByRole('option', { name: 'Di-tube tsa gompieno go tswa kwa laptop ra-01' }).click();
  await expect(page.getByTestId('scanned-of')).toHaveText('0 go 0 di sekenilwe');
  const scan = async (code: string) => {
    await page.getByLabel(tn.reconcile.scanLabel).fill(code);
    await page.keyboard.press('Enter');
  };
  await scan('nonsense!');
  await expect(page.getByTestId('scan-banner')).toContainText(tn.reconcile.bannerInvalid);
  const stray = requisitionIdentifier('ra-09', 5);
  await scan(stray);
  await expect(page.getByTestId('scan-banner')).toContainText(tn.reconcile.bannerUnexpected);
  await expect(page.getByTestId('scan-banner')).toContainText(`${stray} ga e mo go neelaneng mo.`);
  await page.getByRole('tab', { name: new RegExp(tn.reconcile.tabUnexpected) }).click();
  await expect(page.getByTestId('unexpected')).toContainText('tube e le 1');
  await noEnglish(page);
  await shot(page, info, 'reconcile-tn');
  expect(await axe(page)).toEqual([]);

  await page.getByTestId('reconcile-finish').click();
  const dialog = page.getByRole('dialog', { name: tn.reconcile.finishTitle });
  await expect(dialog.getByTestId('finish-summary')).toHaveText('0 di tshwana, 0 ga di bonwe, 1 ga di solofelwa.');
  await expect(dialog.getByTestId('finish-needs')).toHaveText('Tube e le 1 e santse e tlhoka lebaka.');
  await expect(dialog.getByRole('textbox', { name: `Lebaka la ${stray}` })).toBeVisible();
  await noEnglish(page);
  await shot(page, info, 'reconcile-finish-tn');
  expect(await axe(page)).toEqual([]);
});
