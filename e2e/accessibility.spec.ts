/**
 * Feel: every screen passes axe's WCAG 2 A/AA rules (no serious or critical violation), and the field laptop can be
 * driven with the keyboard alone, with a visible focus ring.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

async function audit(page: Page, screen: string): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${screen}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.any[0]?.message ?? ''}`).join(' | ')}`);
}

test('every screen of the field laptop, the middleman and the site passes axe WCAG 2 A/AA', async ({ lab, browser }) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'root', 'admin');
  lab.device('ra-06', 'field');
  lab.user('ra-06', 'ra', 'admin');
  lab.device('mm-06', 'middleman');
  lab.user('mm-06', 'driver', 'admin');
  const siteUrl = await lab.serve('site-01');
  const fieldUrl = await lab.serve('ra-06');
  const mmUrl = await lab.serve('mm-06');
  const problems: string[] = [];
  for (const [url, user, screens] of [
    [fieldUrl, 'ra', ['Status', 'Data entry', 'Changes waiting to be sent', 'Let the driver pull', 'File transfer', 'Device & settings']],
    [mmUrl, 'driver', ['Status', 'Changes waiting to be sent', 'Pull from laptop', 'Specimen reconciliation', 'File transfer', 'Conflicts', 'Device & settings']],
    [siteUrl, 'root', ['Status', 'Specimen reconciliation', 'Time to lab', 'File transfer', 'Consumed batches', 'Conflicts', 'Device & settings']],
  ] as const) {
    const page = await (await browser.newContext()).newPage();
    await login(page, url, user);
    for (const s of screens) {
      await openScreen(page, s);
      await page.waitForLoadState('networkidle');
      problems.push(...await audit(page, `${user}@${s}`));
    }
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page.getByLabel('Username')).toBeVisible();
    problems.push(...await audit(page, 'login'));
    await page.context().close();
  }
  expect(problems).toEqual([]);
});

test('the RA registers a subject with the keyboard alone, and focus is always visible', async ({ lab, page }, info) => {
  lab.device('ra-07', 'field');
  lab.user('ra-07', 'ra', 'research-assistant');
  const url = await lab.serve('ra-07');
  await page.goto(url);
  await expect(page.getByLabel('Username')).toBeFocused(); // focus starts in the username field
  await page.keyboard.type('ra');
  await page.keyboard.press('Tab');
  await page.keyboard.type('correct horse battery');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('user')).toContainText('ra');

  // Tab to the "Data entry" link and open it with Enter.
  const entry = page.getByRole('link', { name: 'Data entry' });
  for (let i = 0; i < 15 && !(await entry.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(entry).toBeFocused();
  const outline = await entry.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Data entry' })).toBeVisible();

  const register = page.getByTestId('register-open');
  for (let i = 0; i < 10 && !(await register.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(register).toBeFocused();
  await page.keyboard.press('Enter');
  const form = page.getByRole('form', { name: 'Register a participant' });
  await expect(form.getByLabel('First name')).toBeFocused();
  await page.keyboard.type('Keabetswe');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Sello');
  await page.keyboard.press('Tab');
  await page.keyboard.type('1990-04-12');
  await page.keyboard.press('Tab');
  await page.keyboard.type('9004125009087');
  await shot(page, info, 'keyboard-register-form');
  await page.keyboard.press('Enter'); // submits the form
  await expect(page.getByTestId('subject-title')).toContainText('Keabetswe Sello');
  await shot(page, info, 'keyboard-registered');
});
