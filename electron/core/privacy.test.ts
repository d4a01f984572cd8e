/** Nothing readable on a stolen laptop: the store files hold no plaintext PII, in tables, history or payloads. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Consumer } from './consumer.ts';
import { copyFrom } from './copy.ts';
import { Study } from './domain/study.ts';
import type { RawRow } from './envelope.ts';
import { seed } from './seed.ts';
import { DB_FILE, Store } from './store.ts';
import { pairAt, TestDirs } from './testing/fixtures.ts';

/** Plaintext values that could not appear by chance in base64 ciphertext (digits-only ids, dates, phones, long names). */
function piiNeedles(store: Store): string[] {
  const study = new Study(store);
  const rows = (store.sql.prepare('SELECT * FROM subject').all() as RawRow[]).map((r) => study.decrypted('edc.subject', r));
  const needles = new Set<string>();
  for (const r of rows) {
    for (const col of ['identity_number', 'dob', 'phone']) if (r[col]) needles.add(String(r[col]));
    for (const col of ['first_name', 'last_name']) if (String(r[col]).length >= 6) needles.add(String(r[col]));
  }
  return [...needles];
}

function storeBytes(dir: string): Buffer {
  const files = [DB_FILE, `${DB_FILE}-wal`].map((f) => path.join(dir, f)).filter(existsSync);
  return Buffer.concat(files.map((f) => readFileSync(f)));
}

describe('privacy at rest', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('field and site store files contain no plaintext PII', () => {
    const field = dirs.store('field', 'ra-01');
    seed(field, 20, { seed: 5 });
    const site = dirs.store('site', 'site-01');
    pairAt(site, field);
    copyFrom(site, field.dir);
    assert.ok(new Consumer(site).consume().applied > 0);
    const needles = piiNeedles(field);
    assert.ok(needles.length >= 40, `enough needles (${needles.length})`);
    assert.deepEqual(piiNeedles(site).sort(), needles.sort(), 'the site decrypts the same people');
    for (const store of [field, site]) {
      const bytes = storeBytes(store.dir);
      assert.ok(bytes.length > 10_000);
      // The check itself works: a known non-PII value is found in the same bytes.
      assert.ok(bytes.includes('edc.specimen_requisition'));
      for (const n of needles) assert.ok(!bytes.includes(n), `${store.deviceId}: plaintext ${JSON.stringify(n)} found in the store files`);
    }
  });
});
