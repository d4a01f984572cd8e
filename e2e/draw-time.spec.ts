/**
 * RA story: a tube's draw time is corrected on the field laptop (24-hour time, refused in the future, before the
 * visit day and without a reason), through the write path: the old and new time in the tube's history and in the
 * change waiting to be sent. "Reprint" prints exactly that tube's label in the label stock's layout.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, expectNoFieldNames, login, openScreen, registerWithSpecimens, shot, test } from './fixtures.ts';

/** Serious or critical WCAG 2 A/AA violations on the page as it is now. */
async function axe(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

test('the RA corrects a draw time with a reason and reprints one label', async ({ lab, page }, info) => {
  lab.device('ra-01', 'field');
  lab.user('ra-01', 'ra', 'research-assistant');
  const url = await lab.serve('ra-01');
  await login(page, url, 'ra');
  const [tube, other] = await registerWithSpecimens(page, info, { first: 'Amara', last: 'Okafor', identity: '8801015009087' }, ['CD4', 'Viral load']);
  const row = page.getByTestId('requisition-row').filter({ hasText: tube! });
  await expect(row.getByTestId('since-draw')).toHaveText(/^drawn \d+ min ago$/);
  expect(await axe(page)).toEqual([]);

  // Times as this computer writes them (the browser runs on the laptop's clock and zone).
  const local = (ms: number) => page.evaluate((t) => {
    const d = new Date(t);
    const p = (n: number) => String(n).padStart(2, '0');
    return { date: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`, time: `${p(d.getHours())}:${p(d.getMinutes())}`, midnight: new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() };
  }, ms);
  const now = Date.now();
  const today = await local(now);

  await row.getByRole('button', { name: `Correct the draw time of ${tube}` }).click();
  const dialog = page.getByRole('dialog', { name: `Correct the draw time of ${tube}` });
  await expect(dialog.getByLabel('Date drawn')).toHaveValue(today.date);
  const recorded = await dialog.getByLabel('Time drawn (24-hour clock)').inputValue();
  expect(recorded).toMatch(/^([01]\d|2[0-3]):[0-5]\d$/);

  // In the future (two hours ahead of the laptop's clock): refused.
  const future = await local(now + 2 * 3_600_000);
  await dialog.getByLabel('Date drawn').fill(future.date);
  await dialog.getByLabel('Time drawn (24-hour clock)').fill(future.time);
  await dialog.getByLabel('Why the draw time is corrected').fill('typed at the clinic after the visit');
  await dialog.getByRole('button', { name: 'Save the corrected time' }).click();
  await expect(dialog.getByText('That time is later than now on this laptop’s clock. Enter when the tube was drawn.')).toBeVisible();
  // Not a 24-hour time.
  await dialog.getByLabel('Time drawn (24-hour clock)').fill('8.20 pm');
  await dialog.getByRole('button', { name: 'Save the corrected time' }).click();
  await expect(dialog.getByText('Write the time on the 24-hour clock, e.g. 08:20 or 14:05.')).toBeVisible();
  // The day before the visit: refused.
  const yesterday = await local(today.midnight - 3_600_000);
  await dialog.getByLabel('Date drawn').fill(yesterday.date);
  await dialog.getByLabel('Time drawn (24-hour clock)').fill('09:00');
  await dialog.getByRole('button', { name: 'Save the corrected time' }).click();
  await expect(dialog.getByText('That is before the day of the visit. Check the date.')).toBeVisible();
  await shot(page, info, 'correct-refused-before-visit');
  expect(await axe(page)).toEqual([]);

  // An earlier time today, without a reason: refused; with one: saved.
  const earlier = await local(Math.max(today.midnight + 60_000, now - 95 * 60_000));
  await dialog.getByLabel('Date drawn').fill(earlier.date);
  await dialog.getByLabel('Time drawn (24-hour clock)').fill(earlier.time);
  await dialog.getByLabel('Why the draw time is corrected').fill(' ');
  await dialog.getByRole('button', { name: 'Save the corrected time' }).click();
  await expect(dialog.getByText('Write why, so others can follow the change (at least 3 characters).')).toBeVisible();
  await dialog.getByLabel('Why the draw time is corrected').fill('drawn at the household, recorded at the clinic');
  await shot(page, info, 'correct-form');
  await dialog.getByRole('button', { name: 'Save the corrected time' }).click();
  await expect(dialog).toBeHidden();
  await expect(row.getByTestId('requisition-drawn')).toContainText(earlier.time);
  await expect(row.getByTestId('draw-correction')).toContainText(`to ${await row.getByTestId('requisition-drawn').textContent()} by ra on`);
  await expect(row.getByTestId('draw-correction')).toContainText(`:${recorded.slice(3)}`); // the old time: its minutes at least
  await expect(row.getByTestId('draw-correction')).toContainText(': drawn at the household, recorded at the clinic');
  await shot(page, info, 'correct-saved-history');

  // The label carries the corrected time; Reprint prints exactly that one label, 50×25 mm, top-left.
  await page.evaluate(() => {
    const w = window as unknown as { prints: number; print: () => void };
    w.prints = 0;
    w.print = () => { w.prints += 1; };
  });
  await page.getByTestId('requisition-row').filter({ hasText: other! }).getByRole('button', { name: `Reprint the label of ${other}` }).click();
  await expect.poll(() => page.evaluate(() => (window as unknown as { prints: number }).prints)).toBe(1);
  await page.emulateMedia({ media: 'print' });
  const printed = page.locator('[data-testid="print-label"]:visible');
  await expect(printed).toHaveCount(1);
  await expect(printed).toHaveAttribute('data-barcode', other!);
  const box = (await printed.boundingBox())!;
  expect(Math.round(box.x)).toBe(0);
  expect(Math.round(box.y)).toBe(0);
  expect(Math.round(box.width)).toBe(189); // 50 mm at 96 dpi
  expect(Math.round(box.height)).toBe(94); // 25 mm
  await shot(page, info, 'reprint-print-layout');
  // Once the browser has printed, the page prints every label of the visit again (the corrected one included).
  await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
  await expect(printed).toHaveCount(2);
  await expect(page.locator(`[data-testid="print-label"][data-barcode="${tube!}"]`)).toContainText(earlier.time);
  await page.emulateMedia({ media: 'screen' });

  // The change waits to be sent as an update of the tube, with before, after and the reason.
  await openScreen(page, 'Changes waiting to be sent');
  await page.getByRole('textbox', { name: 'Kind' }).click();
  await page.getByRole('option', { name: 'blood tube', exact: true }).click();
  await expect(page.getByTestId('pending-total')).toHaveText('3 changes');
  await page.getByTestId('pending-table').getByRole('button', { name: 'Open' }).first().click();
  const content = page.getByTestId('tx-content');
  await expect(content.getByTestId('tx-reason')).toHaveText('Reason given: drawn at the household, recorded at the clinic');
  const change = content.getByTestId('tx-changes').getByRole('row', { name: /^Drawn / });
  await expect(change).toBeVisible();
  const [before, after] = await change.locator('td').allTextContents().then((c) => c.slice(1));
  // Both in the one date style (day, month by name, year, 24-hour time), and not the same.
  expect(before).toMatch(/^\d{2} \S+ \d{4}, \d{2}:\d{2}$/);
  expect(after).toMatch(/^\d{2} \S+ \d{4}, \d{2}:\d{2}$/);
  expect(after).not.toBe(before);
  await expectNoFieldNames(content);
  await shot(page, info, 'pending-correction');
});
