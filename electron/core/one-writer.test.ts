/**
 * One writer at a time, by construction (issue 9, deliverable 9): two `consume` processes draining one store at once
 * apply every transaction exactly once, in order, with no false conflict and no error. Real processes on real stores.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportBatches } from '../files/export.ts';
import { IMPORT_LOCK_FILE } from '../files/import.ts';
import { readReceiptsDir } from '../files/receipts.ts';
import { Consumer } from './consumer.ts';
import { seed } from './seed.ts';
import { Store } from './store.ts';
import { spawnCli } from './testing/processes.ts';
import { mergeSnapshots, outgoingWire, pairAt, snapshot, TestDirs } from './testing/fixtures.ts';

describe('one writer at a time: concurrent drains of one store', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('two consume processes on one site store: each transaction applied once, 0 conflicts, equal to the laptops', { timeout: 300_000 }, async () => {
    const a = dirs.store('field', 'ra-w1');
    const b = dirs.store('field', 'ra-w2');
    seed(a, 260, { seed: 1 });
    seed(b, 260, { seed: 2 });
    const site = dirs.store('site', 'site-w');
    pairAt(site, a, b);
    const wire = [...outgoingWire(a), ...outgoingWire(b)];
    assert.ok(wire.length >= 5000, `${wire.length} transactions`);
    const r = new Consumer(site).ingest(wire, 'rest');
    assert.equal(r.accepted.length, wire.length);
    const expected = mergeSnapshots([snapshot(a), snapshot(b)]);
    site.close();

    const procs = [0, 1].map(() => spawnCli(['--data', site.dir, 'consume', '--json']));
    const codes = await Promise.all(procs.map((p) => p.exited));
    assert.deepEqual(codes, [0, 0], procs.map((p) => p.stderr.join(' | ')).join(' || '));
    const results = procs.map((p) => JSON.parse(p.stdout.at(-1)!) as { applied: number; ignored: number; errors: number; conflicts: number });
    console.log(`applied by each process: ${results.map((x) => x.applied).join(" + ")} of ${wire.length}`);
    assert.equal(results[0]!.applied + results[1]!.applied, wire.length, `applied ${results.map((x) => x.applied).join(' + ')}`);
    assert.deepEqual(results.map((x) => [x.errors, x.conflicts, x.ignored]), [[0, 0, 0], [0, 0, 0]]);

    const after = Store.open(site.dir);
    try {
      const counts = after.sql.prepare(`SELECT count(*) AS n, sum(is_consumed) AS consumed, sum(is_error) AS errors, sum(is_conflict) AS conflicts
        FROM incoming_transaction`).get() as { n: number; consumed: number; errors: number; conflicts: number };
      assert.deepEqual(counts, { n: wire.length, consumed: wire.length, errors: 0, conflicts: 0 });
      const history = after.sql.prepare('SELECT count(*) AS n FROM audit_history').get() as { n: number };
      assert.equal(history.n, wire.length, 'one history row per transaction: none applied twice');
      assert.deepEqual(snapshot(after), expected);
    } finally {
      after.close();
    }
  });

  it('two import processes on one central store, the same files: each batch imported once, 0 conflicts, receipts written', { timeout: 300_000 }, async () => {
    const a = dirs.store('field', 'ra-w3');
    const site = dirs.store('site', 'site-w2');
    pairAt(site, a);
    const usb = dirs.path('usb-w2');
    // Four rounds of work at the site, one batch file each.
    const exported: string[] = [];
    for (let round = 0; round < 4; round++) {
      const before = outgoingWire(a).length;
      seed(a, 50, { seed: 3 + round });
      new Consumer(site).ingest(outgoingWire(a).slice(before), 'rest');
      new Consumer(site).consume();
      exported.push(...exportBatches(site, usb).batches.map((b) => b.fileName));
    }
    const wire = outgoingWire(a);
    assert.equal(exported.length, 4);
    const central = dirs.store('central', 'central-w');
    const expected = snapshot(a);
    central.close();
    // A lock left behind by an import that was killed: its process is gone, so it is taken over.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(path.join(central.dir, IMPORT_LOCK_FILE), `${dead}\n`);
    const procs = [0, 1].map(() => spawnCli(['--data', central.dir, 'import', '--dir', usb, '--json']));
    const codes = await Promise.all(procs.map((p) => p.exited));
    // One import at a time: the other found nothing left to do, or was told plainly that an import is running.
    assert.ok(codes.includes(0), procs.map((p) => p.stderr.join(' | ')).join(' || '));
    for (const [i, code] of codes.entries()) {
      if (code !== 0) assert.match(procs[i]!.stderr.join(' '), /another import \(process \d+\) is running on this store.*\[BUSY\]/);
    }
    console.log(`import exit codes: ${codes.join(', ')}`);
    const after = Store.open(central.dir);
    try {
      const counts = after.sql.prepare('SELECT count(*) AS n, sum(is_consumed) AS consumed, sum(is_error) AS errors, sum(is_conflict) AS conflicts FROM incoming_transaction').get();
      assert.deepEqual(counts, { n: wire.length, consumed: wire.length, errors: 0, conflicts: 0 });
      const imports = after.sql.prepare("SELECT status, count(*) AS n FROM file_import GROUP BY status ORDER BY status").all();
      assert.deepEqual(imports, [{ status: 'imported', n: exported.length }], 'each batch imported once, none quarantined');
      assert.deepEqual(snapshot(after), expected);
    } finally {
      after.close();
    }
    assert.equal(existsSync(path.join(central.dir, IMPORT_LOCK_FILE)), false, 'the lock is released');
    const receipts = await readReceiptsDir(usb);
    assert.equal(receipts.length, exported.length, 'a receipt for every batch');
  });
});
