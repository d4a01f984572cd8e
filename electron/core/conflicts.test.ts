/**
 * Settling conflicts: keep the version here, or take the incoming one through the write path (new revision, history,
 * an outgoing transaction that travels on), including an incoming delete; refusals change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readConflictReason } from '../../shared/conflict-reason.ts';
import { isEdcError } from '../../shared/errors.ts';
import { createBackend } from '../app/backend.ts';
import { dispatch } from '../app/dispatch.ts';
import { listConflicts, resolveConflict } from './conflicts.ts';
import { Consumer } from './consumer.ts';
import { copyFrom } from './copy.ts';
import { Study } from './domain/study.ts';
import type { Store } from './store.ts';
import { pairAt, TestDirs } from './testing/fixtures.ts';
import { KEYSET_FILE, writeKeySetFile } from './crypto/keyset.ts';
import path from 'node:path';

const ra = { user: 'ra.test' };
const dm = { user: 'dm.test' };
let n = 0;
const person = () => ({
  firstName: 'Lerato', lastName: `Kgosi${++n}`, dob: '1990-01-01', identityNumber: `ID-${n}-${Date.now()}`, phone: '+267 71 000 001',
  gender: 'F' as const, registrationDatetime: '2026-01-05T08:00:00.000Z',
});

/** A subject changed on the laptop and, from the same revision, on the middleman: the site holds one conflict. */
function conflictAtSite(dirs: TestDirs, tag: string, middlemanChange: (study: Study, id: string) => void): { site: Store; subjectId: string } {
  const field = dirs.store('field', `ra-${tag}`);
  const middleman = dirs.store('middleman', `mm-${tag}`);
  const site = dirs.store('site', `site-${tag}`);
  pairAt(site, field, middleman);
  const fStudy = new Study(field);
  const s = fStudy.registerSubject(person(), ra);
  copyFrom(middleman, field.dir);
  new Consumer(middleman).consume();
  middlemanChange(new Study(middleman), String(s.id));
  fStudy.write.update('edc.subject', String(s.id), { phone: '+267 73 000 003' }, ra);
  copyFrom(site, field.dir);
  copyFrom(site, middleman.dir);
  assert.equal(new Consumer(site).consume().conflicts, 1);
  return { site, subjectId: String(s.id) };
}

describe('conflict resolution', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('on a middleman with the carrier key set: PII differences listed as protected, taking the incoming version refused', () => {
    const field = dirs.store('field', 'ra-cc');
    const middleman = dirs.store('middleman', 'mm-cc');
    const fStudy = new Study(field);
    const s = fStudy.registerSubject(person(), ra);
    copyFrom(middleman, field.dir);
    new Consumer(middleman).consume();
    // Changed there while it still held the full set (the warned set-up), then given the carrier set.
    new Study(middleman).write.update('edc.subject', String(s.id), { phone: '+267 72 000 002' }, { user: 'driver' });
    writeKeySetFile(path.join(middleman.keyDir, KEYSET_FILE), dirs.keys.forCarrier());
    middleman.reloadKeys();
    fStudy.write.update('edc.subject', String(s.id), { phone: '+267 73 000 003' }, ra);
    copyFrom(middleman, field.dir);
    assert.equal(new Consumer(middleman).consume().conflicts, 1);
    const [c] = listConflicts(middleman);
    assert.deepEqual(c!.protectedFields.sort(), ['dob', 'first_name', 'identity_number', 'last_name', 'phone']);
    assert.deepEqual(c!.differences.phone, [null, null], 'the phone differs (by its lookup hash), unreadable');
    assert.equal('first_name' in c!.differences, false, 'unchanged PII is not listed');
    assert.ok(!JSON.stringify(c).includes('+267 73 000 003'));
    const before = middleman.sql.prepare('SELECT phone, revision FROM subject WHERE id = ?').get(String(s.id));
    assert.throws(() => resolveConflict(middleman, c!.incomingId, 'take-incoming', dm), (e) => isEdcError(e, 'KEYS_CARRIER'));
    assert.deepEqual(middleman.sql.prepare('SELECT phone, revision FROM subject WHERE id = ?').get(String(s.id)), before, 'nothing written');
    resolveConflict(middleman, c!.incomingId, 'keep-here', dm);
    assert.equal(listConflicts(middleman).length, 0);
  });

  it('keep-here records the decision and writes nothing else', () => {
    const { site, subjectId } = conflictAtSite(dirs, '81', (st, id) => st.write.update('edc.subject', id, { phone: '+267 72 000 002' }, { user: 'driver' }));
    const [c] = listConflicts(site);
    const outgoing = () => (site.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n;
    const before = outgoing();
    resolveConflict(site, c!.incomingId, 'keep-here', dm);
    assert.equal(outgoing(), before);
    assert.equal(new Study(site).get('edc.subject', subjectId)!.phone, '+267 73 000 003');
    assert.equal(listConflicts(site).length, 0);
    const [done] = listConflicts(site, { includeResolved: true });
    assert.deepEqual({ r: done!.resolution, by: done!.resolvedBy }, { r: 'keep-here', by: 'dm.test' });
    assert.throws(() => resolveConflict(site, c!.incomingId, 'take-incoming', dm), (e) => isEdcError(e, 'RECORD_NOT_FOUND'), 'a resolved conflict is not resolved again');
  });

  it('take-incoming writes the incoming version through the write path: new revision, history, outgoing transaction', () => {
    const { site, subjectId } = conflictAtSite(dirs, '82', (st, id) => st.write.update('edc.subject', id, { phone: '+267 72 000 002', lastName: 'Corrected' }, { user: 'driver' }));
    const [c] = listConflicts(site);
    assert.equal(c!.canTakeIncoming, true);
    assert.equal(c!.kind, 'update-changed');
    assert.deepEqual(readConflictReason(c!.reason)?.kind, c!.kind, 'the screens read the stored reason as the same kind');
    const r = resolveConflict(site, c!.incomingId, 'take-incoming', dm);
    assert.equal(r.recordRevision, 3);
    const row = new Study(site).get('edc.subject', subjectId)!;
    assert.equal(row.phone, '+267 72 000 002');
    assert.equal(row.last_name, 'Corrected');
    assert.equal(row.user_modified, 'dm.test');
    const out = site.sql.prepare("SELECT producer, tx_name, action FROM outgoing_transaction WHERE tx_pk = ?").all(subjectId) as { producer: string; action: string }[];
    assert.deepEqual(out.map((o) => [o.producer, o.action]), [['site-82', 'U']], 'the decision travels on to central');
    const hist = site.sql.prepare(`SELECT "user" FROM audit_history WHERE record_id = ? AND action = 'U' ORDER BY at`).all(subjectId) as { user: string }[];
    assert.equal(hist.at(-1)!.user, 'dm.test');
  });

  it('take-incoming of a delete deletes the record here', () => {
    const { site, subjectId } = conflictAtSite(dirs, '83', (st, id) => st.write.delete('edc.subject', id, { user: 'driver' }));
    const [c] = listConflicts(site);
    assert.equal(c!.kind, 'delete-changed', 'the middleman deleted the revision the laptop had since changed');
    assert.deepEqual(readConflictReason(c!.reason)?.kind, c!.kind, 'the screens read the stored reason as the same kind');
    assert.equal(resolveConflict(site, c!.incomingId, 'take-incoming', dm).recordRevision, null);
    assert.equal(new Study(site).get('edc.subject', subjectId), undefined);
  });

  it('through the app contract: data managers resolve, lab assistants may not, field laptops have no conflicts', async () => {
    const { site } = conflictAtSite(dirs, '84', (st, id) => st.write.update('edc.subject', id, { phone: '+267 74 000 004' }, { user: 'driver' }));
    const backend = createBackend({ dataDir: site.dir, host: 'web', emit: () => {}, store: site });
    const [c] = listConflicts(site);
    const lab = await dispatch(backend, { username: 'lab', role: 'lab-assistant' }, 'conflicts.resolve', { incomingId: c!.incomingId, resolution: 'keep-here' });
    assert.equal(lab.ok ? '' : lab.error.code, 'PERMISSION_DENIED');
    const listed = await dispatch(backend, { username: 'dm', role: 'data-manager' }, 'conflicts.list', {});
    assert.ok(listed.ok);
    const conflicts = (listed.value as { conflicts: { differences: Record<string, unknown>; changedIncomingBy: string }[] }).conflicts;
    assert.deepEqual(conflicts[0]!.differences.phone, ['+267 73 000 003', '+267 74 000 004']);
    assert.equal(conflicts[0]!.changedIncomingBy, 'driver');
    const ok = await dispatch(backend, { username: 'dm', role: 'data-manager' }, 'conflicts.resolve', { incomingId: c!.incomingId, resolution: 'take-incoming' });
    assert.ok(ok.ok, JSON.stringify(ok));
    const field = dirs.store('field', 'ra-85');
    const fb = createBackend({ dataDir: field.dir, host: 'desktop', emit: () => {}, store: field });
    const refused = await dispatch(fb, { username: 'ra', role: null }, 'conflicts.list', {});
    assert.equal(refused.ok ? '' : refused.error.code, 'ROLE_NOT_ALLOWED');
  });
  it('conflicts.list pages in SQL with a count: three conflicts, two a page', async () => {
    const field = dirs.store('field', 'ra-86');
    const middleman = dirs.store('middleman', 'mm-86');
    const site = dirs.store('site', 'site-86');
    pairAt(site, field, middleman);
    const fStudy = new Study(field);
    const ids = [0, 1, 2].map(() => String(fStudy.registerSubject(person(), ra).id));
    copyFrom(middleman, field.dir);
    new Consumer(middleman).consume();
    for (const id of ids) new Study(middleman).write.update('edc.subject', id, { phone: '+267 72 000 002' }, { user: 'driver' });
    for (const id of ids) fStudy.write.update('edc.subject', id, { phone: '+267 73 000 003' }, ra);
    copyFrom(site, field.dir);
    copyFrom(site, middleman.dir);
    assert.equal(new Consumer(site).consume().conflicts, 3);
    const backend = createBackend({ dataDir: site.dir, host: 'web', emit: () => {}, store: site });
    const dmCall = async (input: unknown) => {
      const r = await dispatch(backend, { username: 'dm', role: 'data-manager' }, 'conflicts.list', input);
      assert.ok(r.ok, JSON.stringify(r));
      return r.value as { conflicts: { recordId: string }[]; total: number };
    };
    const p0 = await dmCall({ pageSize: 2 });
    const p1 = await dmCall({ pageSize: 2, page: 1 });
    assert.deepEqual([p0.total, p0.conflicts.length, p1.total, p1.conflicts.length], [3, 2, 3, 1]);
    assert.deepEqual([...p0.conflicts, ...p1.conflicts].map((c) => c.recordId).sort(), [...ids].sort());
    resolveConflict(site, listConflicts(site)[0]!.incomingId, 'keep-here', dm);
    assert.equal((await dmCall({})).total, 2);
    assert.equal((await dmCall({ includeResolved: true })).total, 3);
  });
});
