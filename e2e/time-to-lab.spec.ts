/**
 * Site story: time to lab per day and per laptop. Two field laptops' tubes reach the site (seeded, pushed); the
 * lab's reconciliations of earlier days are written into the site's store through the core write path (the
 * scanning screen itself is driver.spec's story), each laptop's tubes of a day received together some time after
 * the day's last draw. The lab assistant opens Time to lab for those days: the summary, the charts and the tables;
 * the downloaded CSV's rows are checked against times computed here from the requisitions, and equal the CLI's.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { readFileSync } from 'node:fs';
import { Study } from '../electron/core/domain/study.ts';
import { Store } from '../electron/core/store.ts';
import { localDate } from '../shared/local-time.ts';
import { DEFAULT_STABILITY_MINUTES } from '../shared/settings.ts';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

const ZONE = 'Africa/Gaborone';
/** Minutes after a laptop's last draw of the day at which the lab received that laptop's tubes of the day. */
const DELAY: Record<string, number> = { 'ra-01': 35, 'ra-02': 150 };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

test('the site shows time to lab per day and per laptop, with charts and a CSV download', async ({ lab, page }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'lab', 'lab-assistant');
  lab.cli('site-01', ['config', 'set', 'timeZone', ZONE]);
  const siteUrl = await lab.serve('site-01');
  for (const ra of ['ra-01', 'ra-02']) {
    lab.device(ra, 'field');
    lab.cli(ra, ['seed', '--subjects', ra === 'ra-01' ? '6' : '4']);
    lab.pair(ra, 'site-01', siteUrl);
    lab.cli(ra, ['push']);
  }
  await expect.poll(() => lab.json<{ incoming: { pending: number; consumed: number } }>('site-01', ['status']).incoming.pending, { timeout: 60_000 }).toBe(0);

  // The lab's receipts of those days, and what each tube's time to lab must be.
  const store = Store.open(lab.dir('site-01'));
  const expected = new Map<string, { day: string; producer: string; panel: string; minutes: number; id: string }>();
  try {
    const tubes = store.sql.prepare('SELECT requisition_identifier AS id, device_id AS producer, panel, drawn_datetime AS drawn FROM specimen_requisition ORDER BY drawn_datetime').all() as { id: string; producer: string; panel: string; drawn: string }[];
    expect(tubes.length).toBeGreaterThan(10);
    const handOvers = new Map<string, typeof tubes>();
    for (const t of tubes) {
      const k = `${localDate(t.drawn, ZONE)} ${t.producer}`;
      handOvers.set(k, [...(handOvers.get(k) ?? []), t]);
    }
    const study = new Study(store);
    for (const [k, list] of handOvers) {
      const producer = k.split(' ')[1]!;
      const last = Math.max(...list.map((t) => Date.parse(t.drawn)));
      const at = last + DELAY[producer]! * 60_000;
      study.reconcile({ reconciledAt: new Date(at).toISOString(), location: 'lab', matched: JSON.stringify(list.map((t) => t.id)), missing: '[]', unexpected: '[]' }, { user: 'lab' });
      for (const t of list) expected.set(t.id, { day: localDate(t.drawn, ZONE), producer, panel: t.panel, minutes: Math.floor((at - Date.parse(t.drawn)) / 60_000), id: t.id });
    }
  } finally {
    store.close();
  }
  const all = [...expected.values()];
  const days = [...new Set(all.map((t) => t.day))].sort();
  const from = days[0]!;
  const to = days.at(-1)!;
  const row = (day: string, laptop: string, ts: typeof all) => {
    const worst = [...ts].sort((a, b) => b.minutes - a.minutes || a.id.localeCompare(b.id))[0]!;
    const over = ts.filter((t) => t.minutes > DEFAULT_STABILITY_MINUTES[t.panel]!).length;
    return [day, laptop, ts.length, median(ts.map((t) => t.minutes)), worst.minutes, worst.id, over].join(',');
  };
  const want = ['day_drawn,laptop,tubes,median_minutes,worst_minutes,worst_tube,over_limit'];
  for (const d of days) for (const p of ['ra-01', 'ra-02']) {
    const ts = all.filter((t) => t.day === d && t.producer === p);
    if (ts.length) want.push(row(d, p, ts));
  }
  for (const d of days) want.push(row(d, 'all', all.filter((t) => t.day === d)));
  for (const p of ['ra-01', 'ra-02']) want.push(row('all', p, all.filter((t) => t.producer === p)));
  want.push(row('all', 'all', all));

  await login(page, siteUrl, 'lab');
  await openScreen(page, 'Time to lab');
  await expect(page.getByText(`local date of the draw (${ZONE})`)).toBeVisible();
  await page.getByLabel('From (day drawn)').fill(from);
  await page.getByLabel('To (day drawn)').fill(to);
  await page.getByTestId('ttl-show').click();
  await expect(page.getByTestId('ttl-overall')).toContainText(`${all.length} tubes received`);
  await expect(page.getByTestId('ttl-chart-days-bar')).toHaveCount(days.length);
  await expect(page.getByTestId('ttl-chart-laptops-bar')).toHaveCount(2);
  await expect(page.getByTestId('ttl-days-row')).toHaveCount(days.length);
  await expect(page.getByTestId('ttl-laptops-row').filter({ hasText: 'ra-02' })).toContainText(`${all.filter((t) => t.producer === 'ra-02').length}`);
  // The chart's bars carry the numbers they draw; the worst of ra-02 (2.5 h after its last draw at least) is the taller bar.
  const ra02 = page.locator('[data-testid="ttl-chart-laptops-bar"][data-label="ra-02"]');
  expect(Number(await ra02.getAttribute('data-worst'))).toBeGreaterThanOrEqual(150);
  await expect(page.getByRole('img', { name: /Median and worst time to lab per laptop/ })).toBeVisible();
  await shot(page, info, 'time-to-lab');
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);

  // A day range the wrong way round is refused with a sentence.
  await page.getByLabel('From (day drawn)').fill(to);
  await page.getByLabel('To (day drawn)').fill(from);
  await page.getByTestId('ttl-show').click();
  if (from !== to) await expect(page.getByText('Choose a “from” day on or before the “to” day, at most a year apart.')).toBeVisible();
  await page.getByLabel('From (day drawn)').fill(from);
  await page.getByLabel('To (day drawn)').fill(to);
  await page.getByTestId('ttl-show').click();

  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ttl-download').click()]);
  expect(file.suggestedFilename()).toBe(`time-to-lab_${from}_${to}.csv`);
  const csv = readFileSync((await file.path())!, 'utf8');
  expect(csv.trimEnd().split('\r\n')).toEqual(want);
  await info.attach('time-to-lab.csv', { body: csv, contentType: 'text/csv' });

  // The CLI writes the same rows.
  const cli = lab.cli('site-01', ['specimens', 'time-to-lab', '--from', from, '--to', to, '--csv']);
  expect(cli.trimEnd().split(/\r?\n/)).toEqual(want);
});
