/**
 * RA story at 500 participants: the list has a count and a pager; part of a surname finds the participant just
 * registered (accents and case aside), part of a common name finds all who have it, page by page, and part of the
 * identity number or phone finds them too.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

async function axe(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

async function find(page: Page, query: string): Promise<void> {
  const box = page.getByRole('search', { name: 'Find a participant' });
  await box.getByLabel('Find a participant').fill(query);
  await box.getByRole('button', { name: 'Find' }).click();
}

test('partial name search among 500 participants, with a count and a pager', async ({ lab, browser }, info) => {
  lab.device('ra-01', 'field');
  lab.user('ra-01', 'ra', 'research-assistant');
  lab.cli('ra-01', ['seed', '--subjects', '500']);
  const url = await lab.serve('ra-01');
  const page = await (await browser.newContext()).newPage();
  await login(page, url, 'ra');
  await openScreen(page, 'Data entry');

  // Everyone, newest first: a count and 25 a page.
  await expect(page.getByTestId('subject-count')).toHaveText('500 participants');
  await expect(page.getByTestId('subject-row')).toHaveCount(25);
  await expect(page.getByTestId('subject-pager-count')).toHaveText('Showing 1–25 of 500');
  await page.getByRole('button', { name: 'Page 20' }).click();
  await expect(page.getByTestId('subject-pager-count')).toHaveText('Showing 476–500 of 500');
  await shot(page, info, 'list-last-page');

  // Register one, then find them by part of the surname, in another case, without the accent.
  await page.getByTestId('register-open').click();
  const form = page.getByRole('form', { name: 'Register a participant' });
  await form.getByLabel('First name').fill('Nthabiséng');
  await form.getByLabel('Surname').fill('Okafor-Bello');
  await form.getByLabel('Date of birth').fill('12/04/1990');
  await form.getByLabel('Identity number').fill('8801015009087');
  await form.getByLabel('Phone (optional)').fill('+267 71 234 567');
  await form.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByTestId('subject-title')).toContainText('Nthabiséng Okafor-Bello');
  const subject = (await page.getByTestId('subject-title').textContent())!.split(' · ')[0]!;
  await page.getByRole('button', { name: '← All participants' }).click();
  await expect(page.getByTestId('subject-count')).toHaveText('501 participants');

  for (const [query, count] of [['kafor', '1 participant matches “kafor”'], ['NTHABISENG', '1 participant matches “NTHABISENG”'], ['bello nthab', '1 participant matches “bello nthab”'],
    ['5009087', '1 participant matches “5009087”'], ['71 234 567', '1 participant matches “71 234 567”'], [subject.slice(-7), `1 participant matches “${subject.slice(-7)}”`]] as const) {
    await find(page, query);
    await expect(page.getByTestId('subject-count')).toHaveText(count);
    await expect(page.getByTestId('subject-row')).toHaveCount(1);
    await expect(page.getByTestId('subject-row')).toContainText(subject);
  }
  await find(page, 'kafor');
  await shot(page, info, 'search-surname-part');
  expect(await axe(page)).toEqual([]);

  // Part of common names: everyone who has it, page by page, every row with it in the name.
  await find(page, 'mo');
  // The count follows the search: wait for this query's sentence before reading it.
  await expect(page.getByTestId('subject-count')).toHaveText(/^\d+ participants match “mo”$/);
  const counted = (await page.getByTestId('subject-count').textContent())!;
  const n = Number(/^(\d+) participants match “mo”$/.exec(counted)?.[1]);
  expect(n).toBeGreaterThan(25);
  await expect(page.getByTestId('subject-pager-count')).toHaveText(`Showing 1–25 of ${n}`);
  const names = async () => page.getByTestId('subject-row').locator('td:nth-child(2)').allTextContents();
  for (const name of await names()) expect(name.toLowerCase()).toContain('mo');
  const pages = Math.ceil(n / 25);
  await page.getByRole('button', { name: `Page ${pages}` }).click();
  await expect(page.getByTestId('subject-pager-count')).toHaveText(`Showing ${(pages - 1) * 25 + 1}–${n} of ${n}`);
  await expect(page.getByTestId('subject-row')).toHaveCount(n - (pages - 1) * 25);
  for (const name of await names()) expect(name.toLowerCase()).toContain('mo');
  await shot(page, info, 'search-common-part-last-page');

  // Nothing found: said in words.
  await find(page, 'zzzq');
  await expect(page.getByTestId('subject-count')).toHaveText('No participant matches “zzzq”');
  await expect(page.getByText('No participant found for “zzzq”.')).toBeVisible();
});
