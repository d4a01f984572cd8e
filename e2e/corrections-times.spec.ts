/**
 * RA story, the rest of the corrections: when the consent was given and when the visit took place (a date and a
 * 24-hour time, refused when later than now or before the day of registration), how many tubes a label holds, and
 * a visit's vital signs or medical history deleted alone; each with a reason, in the participant's history. A visit
 * moved to a later day than its blood tubes were drawn is refused at its date, saying what to do.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { Study } from '../electron/core/domain/study.ts';
import { Store } from '../electron/core/store.ts';
import { expect, login, openScreen, registerWithSpecimens, shot, test } from './fixtures.ts';

async function axe(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

const pad = (n: number) => String(n).padStart(2, '0');
/** A local day (year-month-day) `days` from today, as the fields take it (this machine's zone is the browser's). */
const day = (days: number) => {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
};

test('the RA corrects when consent was given and when the visit was, a tube’s count, and deletes vital signs and medical history alone', async ({ lab, browser }, info) => {
  lab.device('ra-01', 'field');
  lab.user('ra-01', 'ra', 'research-assistant');
  const url = await lab.serve('ra-01');
  const field = await (await browser.newContext()).newPage();
  await login(field, url, 'ra');
  const [cd4] = await registerWithSpecimens(field, info, { first: 'Kagiso', last: 'Molefe', identity: '9203045009082' }, ['CD4', 'Chemistry']);

  // Consent: signed earlier today (00:00 is never later than now, nor before the day of registration).
  await field.getByRole('button', { name: 'Correct consent version 1.0' }).click();
  const consent = field.getByRole('dialog', { name: 'Correct consent version 1.0' });
  await expect(consent.getByLabel('Date of consent')).toHaveValue(day(0));
  await consent.getByLabel('Date of consent').fill(day(1));
  await consent.getByLabel('Why is it corrected?').fill('the time on the paper form');
  await consent.getByRole('button', { name: 'Save the correction' }).click();
  await expect(consent.getByText('That is later than now on this laptop’s clock. Enter when it happened.')).toBeVisible();
  await consent.getByLabel('Date of consent').fill(day(-1));
  await consent.getByRole('button', { name: 'Save the correction' }).click();
  await expect(consent.getByText('That is before the day the participant was registered. Check the date.')).toBeVisible();
  await consent.getByLabel('Date of consent').fill('31/12');
  await consent.getByRole('button', { name: 'Save the correction' }).click();
  await expect(consent.getByText('Write the date as year-month-day, e.g. 2026-12-03.')).toBeVisible();
  await consent.getByLabel('Date of consent').fill(day(0));
  await consent.getByLabel('Time of consent (24-hour clock)').fill('25:00');
  await consent.getByRole('button', { name: 'Save the correction' }).click();
  await expect(consent.getByText('Write the time on the 24-hour clock, e.g. 08:20 or 14:05.')).toBeVisible();
  await consent.getByLabel('Time of consent (24-hour clock)').fill('00:00');
  await shot(field, info, 'correct-consent-time');
  expect(await axe(field)).toEqual([]);
  await consent.getByRole('button', { name: 'Save the correction' }).click();
  await expect(consent).toBeHidden();
  await expect(field.getByTestId('consents')).toContainText('00:00');

  // Visit: the same rule, at 00:05.
  await field.getByRole('button', { name: 'Correct Visit 1000' }).click();
  const visit = field.getByRole('dialog', { name: 'Correct Visit 1000' });
  await visit.getByLabel('Time of the visit (24-hour clock)').fill('00:05');
  await visit.getByLabel('Why is it corrected?').fill('seen just after midnight');
  await visit.getByRole('button', { name: 'Save the correction' }).click();
  await expect(visit).toBeHidden();
  await expect(field.getByTestId('visit').getByText(/00:05/)).toBeVisible();

  // Tube: two tubes under one label; 0 is refused with the entry rule.
  await field.getByRole('button', { name: `Correct tube ${cd4}` }).click();
  const tube = field.getByRole('dialog', { name: `Correct tube ${cd4}` });
  await expect(tube.getByLabel('How many tubes')).toHaveValue('1');
  await tube.getByLabel('How many tubes').fill('0');
  await tube.getByLabel('Why is it corrected?').fill('two tubes were drawn under this label');
  await tube.getByRole('button', { name: 'Save the correction' }).click();
  await expect(tube.getByText('Write a whole number of tubes from 1 to 20.')).toBeVisible();
  await tube.getByLabel('How many tubes').fill('2');
  await shot(field, info, 'correct-tube-count');
  expect(await axe(field)).toEqual([]);
  await tube.getByRole('button', { name: 'Save the correction' }).click();
  await expect(tube).toBeHidden();
  await expect(field.getByTestId('requisition-row').filter({ hasText: cd4! }).getByTestId('requisition-count')).toHaveText('2');

  // Vital signs saved, then deleted alone: the visit and its tubes stay, the form is empty again.
  await field.getByRole('tab', { name: /Vital signs/ }).click();
  await field.getByTestId('vital-weightKg').fill('61,5');
  await field.getByRole('button', { name: 'Save vital signs' }).click();
  await expect(field.getByTestId('vitals-saved')).toBeVisible();
  await field.getByRole('button', { name: 'Delete vital signs of Visit 1000' }).click();
  const delVitals = field.getByRole('dialog', { name: 'Delete vital signs of Visit 1000' });
  await expect(delVitals.getByTestId('delete-warning')).toContainText('The vital signs of this visit are deleted');
  await delVitals.getByRole('button', { name: 'Delete it' }).click();
  await expect(delVitals.getByText('Write why, so others can follow the change (at least 3 characters).')).toBeVisible();
  await delVitals.getByLabel('Why is it deleted?').fill('measured on the wrong participant');
  await shot(field, info, 'delete-vitals');
  expect(await axe(field)).toEqual([]);
  await delVitals.getByRole('button', { name: 'Delete it' }).click();
  await expect(delVitals).toBeHidden();
  await expect(field.getByTestId('vital-weightKg')).toHaveValue('');
  await expect(field.getByRole('button', { name: 'Delete vital signs of Visit 1000' })).toHaveCount(0);

  // Medical history the same way.
  await field.getByRole('tab', { name: /Medical history/ }).click();
  await field.getByRole('checkbox', { name: 'Hypertension' }).check();
  await field.getByRole('button', { name: 'Save medical history' }).click();
  await field.getByRole('button', { name: 'Delete medical history of Visit 1000' }).click();
  const delHistory = field.getByRole('dialog', { name: 'Delete medical history of Visit 1000' });
  await delHistory.getByLabel('Why is it deleted?').fill('entered for the wrong visit');
  await delHistory.getByRole('button', { name: 'Delete it' }).click();
  await expect(delHistory).toBeHidden();
  await expect(field.getByRole('checkbox', { name: 'Hypertension' })).not.toBeChecked();
  await field.getByRole('tab', { name: 'Blood tubes (2)' }).click();
  await expect(field.getByTestId('requisition-row')).toHaveCount(2);

  // The history: each with what changed and why.
  const history = field.getByTestId('subject-history');
  const row = (what: string, action: string) => history.locator(`[data-testid="history-row"][data-action="${action}"]`).filter({ hasText: what });
  await expect(row('consent 1.0', 'U')).toContainText('the time on the paper form');
  await expect(row('consent 1.0', 'U').getByTestId('history-change')).toContainText('00:00');
  await expect(row('visit 1000', 'U')).toContainText('seen just after midnight');
  await expect(row(`blood tube ${cd4}`, 'U')).toContainText('1 → 2');
  await expect(row('vital signs', 'D').getByTestId('history-reason')).toHaveText('measured on the wrong participant');
  await expect(row('medical history', 'D').getByTestId('history-reason')).toHaveText('entered for the wrong visit');
  await shot(field, info, 'corrections-times-history');
  expect(await axe(field)).toEqual([]);
});

test('a visit moved to a later day than its blood tubes were drawn is refused at the date, with what to do', async ({ lab, browser }, info) => {
  lab.device('ra-01', 'field');
  lab.user('ra-01', 'ra', 'research-assistant');
  // Registered, seen and drawn three days ago at noon (this machine's zone is the browser's).
  const at = (days: number, h: number, m: number) => { const d = new Date(); d.setDate(d.getDate() + days); d.setHours(h, m, 0, 0); return d.toISOString(); };
  const store = Store.open(lab.dir('ra-01'));
  try {
    const study = new Study(store);
    const s = study.registerSubject({ firstName: 'Naledi', lastName: 'Tau', dob: '1991-02-03', identityNumber: '910203500', phone: null, gender: 'F', registrationDatetime: at(-3, 12, 0) }, { user: 'ra' });
    const v = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: at(-3, 12, 5), reason: 'scheduled' }, { user: 'ra' });
    for (const [panel, specimenType] of [['CD4', 'whole blood'], ['Chemistry', 'serum']] as const) study.requisition({ visitId: String(v.id), panel, specimenType, drawnDatetime: at(-3, 12, 20), itemCount: 1 }, { user: 'ra' });
  } finally {
    store.close();
  }
  const field = await (await browser.newContext()).newPage();
  await login(field, await lab.serve('ra-01'), 'ra');
  await openScreen(field, 'Data entry');
  await field.getByTestId('subject-row').filter({ hasText: 'Naledi' }).getByRole('button', { name: 'Open' }).click();
  await field.getByRole('button', { name: 'Correct Visit 1000' }).click();
  const visit = field.getByRole('dialog', { name: 'Correct Visit 1000' });
  await visit.getByLabel('Date of the visit').fill(day(-1));
  await visit.getByLabel('Why is it corrected?').fill('the visit was on another day');
  await visit.getByRole('button', { name: 'Save the correction' }).click();
  await expect(visit.getByText(/^2 blood tubes of this visit were drawn before the new date, the first on .+\. Correct their draw times first, or choose a date on or before .+\.$/)).toBeVisible();
  await expect(visit.getByLabel('Date of the visit')).toHaveAttribute('aria-invalid', 'true');
  await shot(field, info, 'correct-visit-after-tubes');
  expect(await axe(field)).toEqual([]);
  // On the tubes' day it is accepted.
  await visit.getByLabel('Date of the visit').fill(day(-3));
  await visit.getByLabel('Time of the visit (24-hour clock)').fill('11:00');
  await visit.getByRole('button', { name: 'Save the correction' }).click();
  await expect(visit).toBeHidden();
  await expect(field.getByTestId('visit').getByText(/11:00/)).toBeVisible();
});
