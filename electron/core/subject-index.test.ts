/**
 * Finding a participant at 500: by part of a name (accents and case ignored), the participant number, identity
 * number or phone, through the in-memory index of decrypted values; it follows corrections and deletes, pages
 * through the contract, and nothing it holds reaches the store files.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackend } from '../app/backend.ts';
import { callsAs } from '../app/testing.ts';
import { correctRecord, deleteRecord } from './corrections.ts';
import { Study } from './domain/study.ts';
import type { RawRow } from './envelope.ts';
import { seed } from './seed.ts';
import { DB_FILE, type Store } from './store.ts';
import { normaliseText, subjectIndex } from './subject-index.ts';
import { TestDirs } from './testing/fixtures.ts';

const ra = { user: 'ra.test' };

describe('finding a participant', () => {
  let dirs: TestDirs;
  let field: Store;
  let study: Study;
  let amara: string;
  before(() => {
    dirs = new TestDirs();
    field = dirs.store('field', 'ra-s1');
    seed(field, 500, { seed: 3 });
    study = new Study(field);
    amara = String(study.registerSubject({ firstName: 'Nthabiséng', lastName: 'Okafor-Bello', dob: '1990-04-12', identityNumber: '880101 5009 087', phone: '+267 71 234 567', gender: 'F', registrationDatetime: new Date().toISOString() }, ra).id);
  });
  after(() => dirs.cleanup());

  it('by part of a name, number, identity number or phone; every word must be found', () => {
    const ix = subjectIndex(field);
    const t0 = performance.now();
    const first = ix.search('kafor');
    const built = performance.now() - t0;
    const t1 = performance.now();
    for (const q of ['kafor', 'nthabiseng', 'NTHABISÉNG okafor', 'bello nthab', '5009087', '8801015009087', '71 234 567', '234567', '+267 71 234 567']) {
      assert.deepEqual(ix.search(q), [amara], q);
    }
    const warm = (performance.now() - t1) / 9;
    console.log(`index of ${ix.size} participants: first search ${built.toFixed(1)} ms (decrypts all), then ${warm.toFixed(2)} ms per search`);
    assert.deepEqual(first, [amara]);
    const identifier = String(study.get('edc.subject', amara)!.subject_identifier);
    assert.deepEqual(ix.search(identifier.toLowerCase()), [amara]);
    assert.deepEqual(ix.search('okafor zzz'), [], 'every word must be found');
    assert.deepEqual(ix.search('zzzz'), []);
    assert.deepEqual(ix.search('   '), []);
  });

  it('finds exactly the participants a scan of the decrypted table finds, newest first', () => {
    const rows = (field.sql.prepare('SELECT * FROM subject ORDER BY created DESC, id DESC').all() as RawRow[]).map((r) => study.decrypted('edc.subject', r));
    for (const part of ['olef', 'KGO', 'tau', 'ese']) {
      const want = rows.filter((r) => [r.first_name, r.last_name].some((n) => normaliseText(String(n)).includes(part.toLowerCase()))).map((r) => String(r.id));
      assert.ok(want.length > 0, part);
      assert.deepEqual(subjectIndex(field).search(part), want, part);
    }
    const phone = String(rows.find((r) => r.phone)!.phone);
    const byPhone = rows.filter((r) => String(r.phone ?? '').replace(/\D/g, '').includes(phone.replace(/\D/g, '').slice(-6))).map((r) => String(r.id));
    assert.deepEqual(subjectIndex(field).search(phone.replace(/\D/g, '').slice(-6)).sort(), byPhone.sort());
  });

  it('follows corrections and deletes', () => {
    const ix = subjectIndex(field);
    correctRecord(field, study, { kind: 'subject', id: amara, reason: 'surname as on the card', changes: { lastName: 'Okonkwo' } }, ra);
    assert.deepEqual(ix.search('kafor'), []);
    assert.deepEqual(ix.search('okonk'), [amara]);
    deleteRecord(field, study, 'subject', amara, 'registered twice', ra);
    assert.deepEqual(ix.search('okonk'), []);
    assert.equal(ix.size, 500);
  });

  it('pages through the contract: a count and 25 a page, searched or not', async () => {
    const api = callsAs(createBackend({ dataDir: field.dir, host: 'desktop', emit: () => {}, store: field }), { username: 'ra', role: null });
    const all = await api.call('subjects.search', { query: '' });
    assert.deepEqual([all.total, all.rows.length], [500, 25]);
    const last = await api.call('subjects.search', { query: '', page: 19 });
    assert.equal(last.rows.length, 25);
    assert.equal((await api.call('subjects.search', { query: '', page: 20 })).rows.length, 0);
    const part = await api.call('subjects.search', { query: 'o', pageSize: 10 });
    assert.ok(part.total > 10);
    const seen = new Set<string>();
    for (let p = 0; p * 10 < part.total; p++) {
      const pg = await api.call('subjects.search', { query: 'o', page: p, pageSize: 10 });
      for (const r of pg.rows) {
        assert.ok(normaliseText(`${r.firstName} ${r.lastName}`).includes('o') || r.subjectIdentifier.toLowerCase().includes('o'));
        seen.add(r.id);
      }
    }
    assert.equal(seen.size, part.total, 'each found participant on exactly one page');
    assert.equal(await api.fail('subjects.search', { query: 'x', pageSize: 1000 }), 'INPUT_INVALID');
  });

  it('nothing of the index reaches the store files', () => {
    subjectIndex(field).search('kgosi');
    const bytes = Buffer.concat([DB_FILE, `${DB_FILE}-wal`].map((f) => path.join(field.dir, f)).filter(existsSync).map((f) => readFileSync(f)));
    for (const needle of ['Okafor-Bello', 'Nthabis', '5009087', '234 567', 'nthabiseng']) assert.equal(bytes.includes(Buffer.from(needle)), false, needle);
  });
});
