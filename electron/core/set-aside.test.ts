/**
 * Set aside, never drop (issue 9, deliverable 3): a data manager sets aside a received change that can never apply,
 * with a reason. Nothing is deleted; the decision is in the audit history and travels on to central, which sets aside
 * its own copy whichever arrives first; what waits for it is listed for the same decision; nobody else's decision
 * (a laptop's forged one) sets anything aside.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { WireEnvelope } from '../../shared/envelope.ts';
import { createBackend, type Principal } from '../app/backend.ts';
import { callsAs } from '../app/testing.ts';
import { exportBatches } from '../files/export.ts';
import { importBatches } from '../files/import.ts';
import { Consumer } from './consumer.ts';
import { Study } from './domain/study.ts';
import { setAsidePlan, setAsideTransactions } from './set-aside.ts';
import { readStatus } from './status.ts';
import type { Store } from './store.ts';
import { damage, outgoingWire, pairAt, TestDirs } from './testing/fixtures.ts';
import { WritePath } from './write-path.ts';

const LAB: Principal = { username: 'lab', role: 'lab-assistant' };
const DM: Principal = { username: 'dm.mosweu', role: 'data-manager' };
const ra = { user: 'ra.test' };


/** A laptop's day with one visit whose ciphertext was damaged: its vital signs, history and tube wait for it. */
function dayWithADamagedVisit(laptop: Store, n: number): { wire: WireEnvelope[]; visitTx: string; dependants: number } {
  const study = new Study(laptop);
  const s = study.registerSubject({ firstName: `Kago${n}`, lastName: 'Tau', dob: '1990-01-01', identityNumber: `90010100${n}`, phone: null, gender: 'F', registrationDatetime: '2026-01-05T08:00:00.000Z' }, ra);
  const visit = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-06T08:00:00.000Z', reason: 'scheduled' }, ra);
  study.write.insert('edc.vital_signs', { visitId: String(visit.id), weightKg: 60, heightCm: 170, systolic: 120, diastolic: 80, temperatureC: 36.6 }, ra);
  study.write.insert('edc.medical_history', { visitId: String(visit.id), hypertension: false, diabetes: false, hivStatus: 'unknown', currentMedications: null }, ra);
  const later = study.registerSubject({ firstName: `Neo${n}`, lastName: 'Tau', dob: '1991-01-01', identityNumber: `91010100${n}`, phone: null, gender: 'M', registrationDatetime: '2026-01-05T09:00:00.000Z' }, ra);
  assert.ok(later.id);
  const wire = outgoingWire(laptop);
  const visitTx = wire.find((w) => w.txName === 'edc.visit')!.id;
  return { wire: wire.map((w) => (w.id === visitTx ? damage(w) : w)), visitTx, dependants: 2 };
}

const count = (s: Store, sql: string, ...args: unknown[]) => (s.sql.prepare(sql).get(...args) as { n: number }).n;

describe('set aside, never drop', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('a data manager sets aside a damaged visit and what waits for it: no problem left, nothing deleted, audited, synced on', async () => {
    const laptop = dirs.store('field', 'ra-sa1');
    const site = dirs.store('site', 'site-sa1');
    pairAt(site, { deviceId: laptop.deviceId }); // no key on record: the damaged ciphertext reaches the consumer (isolation.test)
    const { wire, visitTx } = dayWithADamagedVisit(laptop, 1);
    const consumer = new Consumer(site);
    consumer.ingest(wire, 'rest', null, {}, { id: randomUUID(), via: 'rest', device: 'ra-sa1' });
    const first = consumer.consume();
    assert.deepEqual([first.applied, first.errors, first.blocked], [2, 1, 2]);
    const received = count(site, 'SELECT count(*) AS n FROM incoming_transaction');

    const backend = createBackend({ dataDir: site.dir, host: 'web', emit: () => {}, store: site });
    const lab = callsAs(backend, LAB);
    const dm = callsAs(backend, DM);
    assert.equal(await lab.fail('transactions.setAside', { id: visitTx, reason: 'the laptop was stolen' }), 'PERMISSION_DENIED');
    const plan = await dm.call('transactions.setAsidePlan', { id: visitTx });
    assert.deepEqual([plan.root.txName, plan.root.state, plan.dependants.map((d) => [d.txName, d.state])],
      ['edc.visit', 'error', [['edc.vital_signs', 'blocked'], ['edc.medical_history', 'blocked']]]);
    assert.match(plan.root.reason!, /^DECRYPT_FAILED/);
    assert.equal(await dm.fail('transactions.setAside', { id: visitTx, reason: ' ' }), 'INPUT_INVALID');

    const r = await dm.call('transactions.setAside', { id: visitTx, reason: 'The laptop was stolen before it could send the visit again.' });
    assert.equal(r.setAside, 3);
    // Nothing deleted; nothing counts as a problem or waits; Retry leaves them be.
    assert.equal(count(site, 'SELECT count(*) AS n FROM incoming_transaction'), received);
    const after = await dm.call('batches.list', { problems: true });
    assert.deepEqual([after.total, after.errors], [0, 0]);
    const status = readStatus(site);
    assert.deepEqual([status.incoming.error, status.incoming.blocked.length], [0, 0]);
    assert.equal(consumer.retryErrors().applied, 0);
    const inspected = await dm.call('transactions.inspect', { id: visitTx });
    assert.equal(inspected.state, 'set-aside');
    assert.deepEqual(inspected.hops.map((h) => h.step), ['made', 'received', 'setAside']);
    assert.equal(inspected.reason, 'Set aside by dm.mosweu: The laptop was stolen before it could send the visit again.');
    // The decision: three records in the audit history by the data manager, three changes waiting for central.
    assert.equal(count(site, "SELECT count(*) AS n FROM audit_history WHERE tx_name = 'edc.set_aside' AND \"user\" = 'dm.mosweu'"), 3);
    assert.equal(count(site, "SELECT count(*) AS n FROM outgoing_transaction WHERE tx_name = 'edc.set_aside'"), 3);
    assert.equal(count(site, 'SELECT count(*) AS n FROM set_aside WHERE root_transaction_id = ?', visitTx), 2);
    // Once is enough: a second decision, or one about a change that applied, is refused plainly.
    assert.equal(await dm.fail('transactions.setAside', { id: visitTx, reason: 'again' }), 'SET_ASIDE_NOT_FAILED');
    const applied = wire.find((w) => w.txName === 'edc.subject')!.id;
    assert.equal(await dm.fail('transactions.setAside', { id: applied, reason: 'not wanted' }), 'SET_ASIDE_NOT_FAILED');
    assert.equal(await dm.fail('transactions.setAside', { id: randomUUID(), reason: 'not here' }), 'TRANSACTION_UNKNOWN');
    await backend.close();

    // Central gets the site's files, its decisions first: its copy of the visit, failing the same way, is set aside
    // as it arrives, and so are the two waiting for it.
    const central = dirs.store('central', 'central-sa1');
    const usb = dirs.path('usb-sa1');
    exportBatches(site, usb);
    importBatches(central, usb);
    const c = readStatus(central);
    assert.deepEqual([c.incoming.error, c.incoming.blocked.length, c.incoming.pending], [0, 0, 0]);
    assert.equal(count(central, 'SELECT count(*) AS n FROM incoming_transaction WHERE set_aside_at IS NOT NULL'), 3);
    assert.equal(count(central, 'SELECT count(*) AS n FROM set_aside'), 3);
  });

  it('at central the failed copy may come first: it waits as failed until the site\'s decision reaches central', () => {
    const laptop = dirs.store('field', 'ra-sa2');
    const site = dirs.store('site', 'site-sa2');
    pairAt(site, { deviceId: laptop.deviceId });
    const { wire, visitTx } = dayWithADamagedVisit(laptop, 2);
    const consumer = new Consumer(site);
    consumer.ingest(wire, 'rest', null, {}, { id: randomUUID(), via: 'rest', device: 'ra-sa2' });
    consumer.consume();
    const central = dirs.store('central', 'central-sa2');
    const usb = dirs.path('usb-sa2');
    exportBatches(site, usb);
    importBatches(central, usb);
    const before = readStatus(central).incoming;
    assert.deepEqual([before.error, before.blocked.map((b) => [b.by, b.count])], [1, [[visitTx, 2]]]);
    // The site's data manager decides; the decision goes to central in the next file.
    assert.equal(setAsideTransactions(site, visitTx, 'Damaged beyond repair; the laptop was reset.', { user: 'dm.two' }, { withDependants: true }).ids.length, 3);
    exportBatches(site, usb);
    importBatches(central, usb);
    const c = readStatus(central);
    assert.deepEqual([c.incoming.error, c.incoming.blocked.length, c.incoming.pending], [0, 0, 0]);
    const marked = central.sql.prepare('SELECT error FROM incoming_transaction WHERE set_aside_at IS NOT NULL ORDER BY producer_seq').all() as { error: string }[];
    assert.deepEqual(marked.map((m) => m.error), Array(3).fill('Set aside by dm.two: Damaged beyond repair; the laptop was reset.'));
  });

  it('a laptop\'s own "decision" sets nothing aside: only the device a change came through decides for the next hop', () => {
    const victim = dirs.store('field', 'ra-sa3');
    const evil = dirs.store('field', 'ra-sa4');
    const site = dirs.store('site', 'site-sa3');
    pairAt(site, { deviceId: victim.deviceId });
    pairAt(site, evil);
    const { wire, visitTx } = dayWithADamagedVisit(victim, 3);
    const consumer = new Consumer(site);
    consumer.ingest(wire, 'rest', null, {}, { id: randomUUID(), via: 'rest', device: 'ra-sa3' });
    consumer.consume();
    // ra-sa4 writes a set-aside record naming ra-sa3's failed visit through its own write path, and pushes it.
    new WritePath(evil).insert('edc.set_aside', { transactionId: visitTx, producer: 'ra-sa3', producerSeq: 2, txName: 'edc.visit', txPk: randomUUID(), reason: 'hide this one', rootTransactionId: null }, { user: 'mallory' });
    consumer.ingest(outgoingWire(evil), 'rest', null, {}, { id: randomUUID(), via: 'rest', device: 'ra-sa4' });
    consumer.consume();
    const row = site.sql.prepare('SELECT is_error, set_aside_at FROM incoming_transaction WHERE id = ?').get(visitTx) as { is_error: number; set_aside_at: string | null };
    assert.deepEqual([Boolean(row.is_error), row.set_aside_at], [true, null]);
    assert.equal(setAsidePlan(site, visitTx).dependants.length, 2, 'still listed for a data manager to decide');
  });
});
