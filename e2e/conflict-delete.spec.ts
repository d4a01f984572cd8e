/**
 * A delete made on the laptop meets a change made meanwhile by the driver's laptop: the site shows it on the
 * Conflicts screen in plain words (which participant, what happened, fields by their names), and the data manager
 * takes the delete. The stores are prepared in-process (the laptop's delete goes through the app's corrections code)
 * before the site's server starts.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { Consumer } from '../electron/core/consumer.ts';
import { copyFrom } from '../electron/core/copy.ts';
import { deleteRecord } from '../electron/core/corrections.ts';
import { Study } from '../electron/core/domain/study.ts';
import { Store } from '../electron/core/store.ts';
import { pairAt } from '../electron/core/testing/fixtures.ts';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

async function axe(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

test('a laptop’s delete of a participant changed meanwhile elsewhere is a conflict the data manager settles', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'dm', 'data-manager');
  lab.device('ra-01', 'field');
  lab.device('mm-01', 'middleman');
  const field = Store.open(lab.dir('ra-01'));
  const mm = Store.open(lab.dir('mm-01'));
  const site = Store.open(lab.dir('site-01'));
  let label = '';
  try {
    pairAt(site, field, mm);
    const study = new Study(field);
    const s = study.registerSubject({ firstName: 'Amara', lastName: 'Okafor', dob: '1990-04-12', identityNumber: '8801015009087', phone: '+267 71 000 001', gender: 'F', registrationDatetime: new Date().toISOString() }, { user: 'ra' });
    label = String(s.subject_identifier);
    const id = String(s.id);
    copyFrom(mm, field.dir);
    new Consumer(mm).consume();
    copyFrom(site, field.dir);
    new Consumer(site).consume();
    new Study(mm).write.update('edc.subject', id, { phone: '+267 72 000 002' }, { user: 'driver' });
    copyFrom(site, mm.dir);
    new Consumer(site).consume();
    deleteRecord(field, study, 'subject', id, 'registered twice by mistake', { user: 'ra' });
    copyFrom(site, field.dir);
    expect(new Consumer(site).consume().conflicts).toBe(1);
  } finally {
    for (const st of [field, mm, site]) st.close();
  }

  const siteUrl = await lab.serve('site-01');
  const page = await (await browser.newContext()).newPage();
  await login(page, siteUrl, 'dm');
  await openScreen(page, 'Conflicts');
  await expect(page.getByTestId('conflicts-count')).toHaveText('1 conflict');
  const card = page.getByTestId('conflict');
  await expect(card.getByTestId('conflict-title')).toHaveText(`participant ${label}`);
  await expect(card.getByTestId('conflict-why')).toHaveText('Deleted on another device from revision 1, but it had changed here meanwhile (revision 2).');
  await expect(card.getByRole('row', { name: /^Phone\b/ })).toContainText('+267 72 000 002');
  await expect(page.getByTestId('conflicts-pager-count')).toHaveText('Showing 1–1 of 1');
  await shot(page, info, 'conflict-from-delete');
  expect(await axe(page)).toEqual([]);

  await card.getByRole('button', { name: 'Take the incoming version' }).click();
  await expect(page.getByTestId('no-conflicts')).toBeVisible();
  expect(lab.json<{ records: Record<string, number> }>('site-01', ['status']).records['edc.subject']).toBe(0);
});
