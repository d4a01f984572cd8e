/**
 * Central on PostgreSQL (issue 12): the study's central server keeps its tables in a real PostgreSQL 15 cluster
 * this spec starts itself. A site's files (with a conflict in them: a participant changed on the laptop and on the
 * driver's laptop from the same revision) are imported from central's web UI, shown on Consumed batches with the
 * inspector, and the conflict is decided on the Conflicts screen. Screenshots of each step.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Consumer } from '../electron/core/consumer.ts';
import { copyFrom } from '../electron/core/copy.ts';
import { KeySet, KEYSET_FILE, writeKeySetFile } from '../electron/core/crypto/keyset.ts';
import { Study } from '../electron/core/domain/study.ts';
import { Store } from '../electron/core/store.ts';
import { pairAt } from '../electron/core/testing/fixtures.ts';
import { startPostgres, type PgCluster } from '../electron/core/testing/postgres.ts';
import { exportBatches } from '../electron/files/export.ts';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

let pg: PgCluster;
test.beforeAll(() => { pg = startPostgres(); });
test.afterAll(() => pg?.destroy());

test('central on PostgreSQL: import from the web UI, Consumed batches, the inspector and a conflict decided on screen', async ({ lab, browser }, info) => {
  const database = pg.createDatabase('central');
  lab.cli('central-pg', ['init', '--role', 'central', '--device-id', 'central-pg', '--database', database]);
  lab.cli('central-pg', ['keys', 'create']);
  const keyFile = path.join(lab.root, 'keys.json');
  lab.cli('central-pg', ['keys', 'export', '--out', keyFile]);
  const keys = KeySet.parse(readFileSync(keyFile, 'utf8'), 'central');
  lab.cli('central-pg', ['user', 'add', '--username', 'dm', '--role', 'data-manager'], 'correct horse battery\n');
  const incoming = lab.dir('central-in');
  lab.cli('central-pg', ['config', 'set', 'importDir', incoming]);

  // The field: a laptop and a driver's laptop change one participant from the same revision; the site gets both.
  const store = (role: 'field' | 'middleman' | 'site', id: string) => {
    const s = Store.init(lab.dir(id), role, id, { hostname: `${id}.e2e` });
    writeKeySetFile(path.join(s.keyDir, KEYSET_FILE), keys);
    return s;
  };
  const field = store('field', 'ra-p1');
  const middleman = store('middleman', 'mm-p1');
  const site = store('site', 'site-p1');
  try {
    pairAt(site, field, middleman);
    const fStudy = new Study(field);
    const s = fStudy.registerSubject({ firstName: 'Lerato', lastName: 'Kgosi', dob: '1990-01-01', identityNumber: '445566778', phone: '+267 71 000 001', gender: 'F', registrationDatetime: '2026-01-05T08:00:00.000Z' }, { user: 'ra' });
    const v = fStudy.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, { user: 'ra' });
    fStudy.write.insert('edc.vital_signs', { visitId: String(v.id), weightKg: 61.5, heightCm: 160, systolic: 118, diastolic: 76, temperatureC: 36.8 }, { user: 'ra' });
    copyFrom(middleman, field.dir);
    new Consumer(middleman).consume();
    new Study(middleman).write.update('edc.subject', String(s.id), { phone: '+267 72 000 002' }, { user: 'driver' });
    fStudy.write.update('edc.subject', String(s.id), { phone: '+267 73 000 003' }, { user: 'ra' });
    copyFrom(site, field.dir);
    copyFrom(site, middleman.dir);
    new Consumer(site).consume();
    exportBatches(site, incoming);
  } finally {
    for (const x of [field, middleman, site]) x.close();
  }

  const url = await lab.serve('central-pg');
  const page = await (await browser.newContext()).newPage();
  await login(page, url, 'dm');
  await openScreen(page, 'Consumed batches');
  await shot(page, info, '01-central-postgres-before-import');
  await page.getByTestId('import-files').click();
  // The laptop's 4 changes and the driver's 1, in the site's files.
  await expect(page.getByTestId('import-result')).toContainText(/files? imported \(5 changes\)/);
  await expect(page.getByTestId('batch-row').first()).toBeVisible();
  await shot(page, info, '02-central-postgres-imported');

  await openScreen(page, 'Conflicts');
  const conflict = page.getByTestId('conflict');
  await expect(conflict).toHaveCount(1);
  await expect(conflict).toContainText('Phone');
  await shot(page, info, '03-central-postgres-conflict');
  await conflict.getByRole('button', { name: 'Take the incoming version' }).click();
  await expect(page.getByTestId('no-conflicts')).toBeVisible();
  await page.getByLabel('Show resolved conflicts too').check();
  await expect(conflict).toContainText('took incoming');
  await shot(page, info, '04-central-postgres-conflict-decided');

  // What the screens show is what PostgreSQL holds (read with psql, the analysts' way in).
  const db = 'central';
  expect(pg.psql(db, 'SELECT count(*) FROM sync_conflict WHERE resolved_at IS NOT NULL').trim()).toBe('1');
  expect(pg.psql(db, 'SELECT count(*) FROM incoming_transaction WHERE is_error = 1').trim()).toBe('0');
  expect(pg.psql(db, 'SELECT weight_kg FROM analysis.vital_signs').trim()).toBe('61.5');
  const status = lab.json<{ incoming: { total: number; consumed: number; error: number } }>('central-pg', ['status']);
  expect(status.incoming.error).toBe(0);
  expect(status.incoming.total).toBeGreaterThan(0);
});
