/**
 * RA story: a participant's details are corrected (personal details included, checked like registration, with a
 * reason), then the participant is deleted with a reason; both are in the participant's history on the laptop
 * (a deleted participant stays listed with theirs), both are synced, and the site shows them arriving: the record
 * changed, then gone, and the inspector's history with who, what and why.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, login, openScreen, registerWithSpecimens, shot, test } from './fixtures.ts';

/** Serious or critical WCAG 2 A/AA violations on the page as it is now. */
async function axe(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

async function sync(page: Page): Promise<void> {
  await openScreen(page, 'Status');
  await page.getByTestId('sync-button').click();
  await expect(page.getByTestId('sync-result')).toContainText('Nothing is waiting');
  await expect(page.getByTestId('pending-server')).toHaveText('0');
}

test('the RA corrects a participant’s details, then deletes the participant; the site gets both with the reasons', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'dm', 'data-manager');
  lab.device('ra-01', 'field');
  lab.user('ra-01', 'ra', 'research-assistant');
  const siteUrl = await lab.serve('site-01');
  lab.pair('ra-01', 'site-01', siteUrl);
  const fieldUrl = await lab.serve('ra-01');

  const field = await (await browser.newContext()).newPage();
  await login(field, fieldUrl, 'ra');
  await registerWithSpecimens(field, info, { first: 'Amara', last: 'Okafor', identity: '8801015009087' }, ['CD4', 'Chemistry']);
  const subject = (await field.getByTestId('subject-title').textContent())!.split(' · ')[0]!;

  // Correct the details: checked like registration, and a reason is required.
  await field.getByTestId('subject-correct').click();
  const dialog = field.getByRole('dialog', { name: `Correct the details of ${subject}` });
  const form = dialog.getByRole('form', { name: 'Correct the participant’s details' });
  await expect(form.getByLabel('Surname')).toHaveValue('Okafor');
  await expect(form.getByLabel('Date of birth')).toHaveValue('12/04/1990');
  await expect(form.getByLabel('Identity number')).toHaveValue('8801015009087');
  await form.getByLabel('Surname').fill('Okafor-Bello');
  await form.getByLabel('Date of birth').fill('31/02/1990');
  await form.getByLabel('Phone (optional)').fill('71 234 567');
  await form.getByRole('button', { name: 'Save the correction' }).click();
  await expect(form.getByText('That date does not exist: check the day and the month.')).toBeVisible();
  await expect(form.getByText('Write why, so others can follow the change (at least 3 characters).')).toBeVisible();
  await form.getByLabel('Date of birth').fill('13/04/1990');
  await form.getByLabel('Why is it corrected?').fill('surname and birthday as on the identity card');
  await shot(field, info, 'correct-subject-form');
  expect(await axe(field)).toEqual([]);
  await form.getByRole('button', { name: 'Save the correction' }).click();
  await expect(dialog).toBeHidden();
  await expect(field.getByTestId('subject-title')).toHaveText(`${subject} · Amara Okafor-Bello`);
  await expect(field.getByTestId('subject-born')).toContainText('13');

  // The same values again: nothing to save, said plainly.
  await field.getByTestId('subject-correct').click();
  await dialog.getByLabel('Why is it corrected?').fill('checked again');
  await dialog.getByRole('button', { name: 'Save the correction' }).click();
  await expect(dialog.getByTestId('change-problem')).toContainText('What you entered is the same as what is recorded, so nothing was changed.');
  await field.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  // The history: the correction with before and after, who and why; the registration below it.
  const history = field.getByTestId('subject-history');
  const corrected = history.locator('[data-testid="history-row"][data-action="U"]');
  await expect(corrected).toHaveCount(1);
  await expect(corrected).toContainText(`participant ${subject}`);
  await expect(corrected).toContainText('Surname: Okafor → Okafor-Bello');
  await expect(corrected).toContainText('Phone: (empty) → 71 234 567');
  await expect(corrected).toContainText('Date of birth: 12 Apr 1990 → 13 Apr 1990');
  await expect(corrected.getByTestId('history-reason')).toHaveText('surname and birthday as on the identity card');
  await expect(history.locator('[data-testid="history-row"][data-action="I"]')).toHaveCount(5);
  await shot(field, info, 'subject-history-corrected');
  expect(await axe(field)).toEqual([]);

  await sync(field);
  const site = await (await browser.newContext()).newPage();
  await login(site, siteUrl, 'dm');
  await expect(site.getByTestId('records-edc.subject')).toHaveText('1');

  // Delete: the warning says what goes with the participant; a reason is required.
  await openScreen(field, 'Data entry');
  await field.getByRole('button', { name: 'Open' }).first().click();
  await field.getByTestId('subject-delete').click();
  const del = field.getByRole('dialog', { name: `Delete participant ${subject}` });
  await expect(del.getByTestId('delete-warning')).toContainText('1 consent, 1 visit with their forms and blood tubes');
  await del.getByRole('button', { name: 'Delete it' }).click();
  await expect(del.getByText('Write why, so others can follow the change (at least 3 characters).')).toBeVisible();
  await del.getByLabel('Why is it deleted?').fill('registered twice: the same person is S01 earlier');
  await shot(field, info, 'delete-subject-form');
  expect(await axe(field)).toEqual([]);
  await del.getByRole('button', { name: 'Delete it' }).click();
  await expect(del).toBeHidden();

  // Back at the list: no participant any more, the deleted one listed with who and why, and its history.
  await expect(field.getByText('No participant registered yet.')).toBeVisible();
  const deleted = field.getByTestId('deleted-row');
  await expect(deleted).toHaveCount(1);
  await expect(deleted).toContainText(subject);
  await expect(deleted).toContainText('Amara Okafor-Bello');
  await expect(deleted).toContainText('registered twice: the same person is S01 earlier');
  await expect(field.getByTestId('deleted-pager-count')).toHaveText('Showing 1–1 of 1');
  await deleted.getByRole('button', { name: `History of ${subject}` }).click();
  const past = field.getByRole('dialog', { name: `History of ${subject}` });
  await expect(past.locator('[data-testid="history-row"][data-action="D"]')).toHaveCount(5);
  await expect(past.locator('[data-testid="history-row"][data-action="D"]').first()).toContainText(`participant ${subject}`);
  await expect(past.locator('[data-testid="history-row"][data-action="U"]')).toContainText('Surname: Okafor → Okafor-Bello');
  await shot(field, info, 'deleted-subject-history');
  expect(await axe(field)).toEqual([]);
  await field.keyboard.press('Escape');

  // Both arrive at the site: the participant is gone there too, and its change history says who did what and why.
  await sync(field);
  await site.reload();
  await expect(site.getByTestId('records-edc.subject')).toHaveText('0');
  await expect(site.getByTestId('records-edc.specimen_requisition')).toHaveText('0');
  await shot(site, info, 'site-status-after-delete');
  await openScreen(site, 'Consumed batches');
  await expect(site.getByTestId('batch-row')).toHaveCount(2);
  await site.getByTestId('batch-expand').first().click();
  const detail = site.getByTestId('session-detail');
  await detail.getByTestId('tx-row').filter({ hasText: 'participant · deleted' }).getByTestId('tx-inspect').click();
  const inspector = site.getByTestId('inspector');
  await expect(inspector.getByTestId('inspector-state')).toHaveText('applied');
  const rows = inspector.getByTestId('inspector-history-row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1)).toContainText('changed');
  await expect(rows.nth(1).getByTestId('inspector-history-reason')).toHaveText('surname and birthday as on the identity card');
  await expect(rows.nth(1)).toContainText('Okafor → Okafor-Bello');
  await expect(rows.nth(2)).toContainText('deleted');
  await expect(rows.nth(2)).toContainText('this change');
  await expect(rows.nth(2).getByTestId('inspector-history-reason')).toHaveText('registered twice: the same person is S01 earlier');
  await shot(site, info, 'site-inspector-deleted-subject');
  expect(await axe(site)).toEqual([]);
  const status = lab.json<{ records: Record<string, number>; incoming: { error: number; conflicts?: number } }>('site-01', ['status']);
  expect(status.records['edc.subject']).toBe(0);
  expect(status.incoming.error).toBe(0);
});

test('the RA corrects a consent, a visit and a tube’s test, and deletes a tube, each with a reason in the history', async ({ lab, browser }, info) => {
  lab.device('ra-01', 'field');
  lab.user('ra-01', 'ra', 'research-assistant');
  const url = await lab.serve('ra-01');
  const field = await (await browser.newContext()).newPage();
  await login(field, url, 'ra');
  const [cd4, chem] = await registerWithSpecimens(field, info, { first: 'Neo', last: 'Kgosi', identity: '9102035009081' }, ['CD4', 'Chemistry']);

  // Consent: the form was in Setswana.
  await field.getByRole('button', { name: 'Correct consent version 1.0' }).click();
  const consent = field.getByRole('dialog', { name: 'Correct consent version 1.0' });
  await consent.getByLabel('Language of the form').fill('tn');
  await consent.getByLabel('Why is it corrected?').fill('the Setswana form was used');
  await consent.getByRole('button', { name: 'Save the correction' }).click();
  await expect(consent).toBeHidden();
  await expect(field.getByTestId('consents')).toContainText('tn');

  // Visit: came unscheduled.
  await field.getByRole('button', { name: 'Correct Visit 1000' }).click();
  const visit = field.getByRole('dialog', { name: 'Correct Visit 1000' });
  await visit.getByRole('textbox', { name: 'Reason' }).click();
  await field.getByRole('option', { name: 'unscheduled' }).click();
  await visit.getByLabel('Why is it corrected?').fill('came between scheduled visits');
  await visit.getByRole('button', { name: 'Save the correction' }).click();
  await expect(visit).toBeHidden();
  await expect(field.getByTestId('visit')).toContainText('unscheduled');

  // Tube: the wrong test was ticked; another tube broke.
  await field.getByRole('button', { name: `Correct tube ${chem}` }).click();
  const tube = field.getByRole('dialog', { name: `Correct tube ${chem}` });
  await tube.getByRole('textbox', { name: 'Test' }).click();
  await field.getByRole('option', { name: 'Stored plasma (plasma)' }).click();
  await tube.getByLabel('Why is it corrected?').fill('stored plasma was drawn, not chemistry');
  await tube.getByRole('button', { name: 'Save the correction' }).click();
  await expect(tube).toBeHidden();
  await expect(field.getByTestId('requisition-row').filter({ hasText: chem! })).toContainText('Stored plasma');
  await field.getByRole('button', { name: `Delete tube ${cd4}` }).click();
  const del = field.getByRole('dialog', { name: `Delete tube ${cd4}` });
  await del.getByLabel('Why is it deleted?').fill('the tube broke before it was labelled');
  await del.getByRole('button', { name: 'Delete it' }).click();
  await expect(del).toBeHidden();
  await expect(field.getByTestId('requisition-row')).toHaveCount(1);

  const history = field.getByTestId('subject-history');
  await expect(history.locator('[data-testid="history-row"][data-action="U"]')).toHaveCount(3);
  await expect(history.locator('[data-testid="history-row"][data-action="D"]')).toHaveCount(1);
  await expect(history.getByTestId('history-row').filter({ hasText: 'consent 1.0' }).first()).toContainText('Language of the form: en → tn');
  await expect(history.getByTestId('history-row').filter({ hasText: `blood tube ${cd4}` }).first().getByTestId('history-reason')).toHaveText('the tube broke before it was labelled');
  await expect(history.getByTestId('history-row').filter({ hasText: `blood tube ${chem}` }).first()).toContainText('Chemistry → Stored plasma');
  await shot(field, info, 'corrections-history');
  expect(await axe(field)).toEqual([]);
});
