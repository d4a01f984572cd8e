/**
 * The outbox cannot be edited behind the app's back (migration 0010): from a second connection to a real store,
 * deleting an outgoing transaction or changing anything but its delivery marks is refused; the delivery marks
 * still change (push, receipts, a resend request).
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { seed } from './seed.ts';
import { DB_FILE, Store } from './store.ts';
import { TestDirs } from './testing/fixtures.ts';

describe('outbox write guard', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('refuses deletes and envelope edits from a second connection; delivery marks change', () => {
    const field = dirs.store('field', 'ra-o1');
    seed(field, 3, { seed: 1 });
    const first = field.sql.prepare('SELECT id, tx FROM outgoing_transaction ORDER BY producer_seq LIMIT 1').get() as { id: string; tx: Buffer };
    const count = () => (field.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n;
    const before = count();
    // Another process of the app (its own connection, guard closed)…
    const other = dirs.track(Store.open(field.dir));
    assert.throws(() => other.sql.prepare('DELETE FROM outgoing_transaction WHERE id = ?').run(first.id), /WRITE_OUTSIDE_PATH/);
    assert.throws(() => other.sql.prepare('DELETE FROM outgoing_transaction').run(), /WRITE_OUTSIDE_PATH/);
    const altered = Buffer.from(first.tx);
    altered[0] = altered[0]! ^ 1;
    assert.throws(() => other.sql.prepare('UPDATE outgoing_transaction SET tx = ? WHERE id = ?').run(altered, first.id), /WRITE_OUTSIDE_PATH/);
    assert.throws(() => other.sql.prepare('UPDATE outgoing_transaction SET producer_seq = producer_seq + 1000').run(), /WRITE_OUTSIDE_PATH/);
    assert.throws(() => other.sql.prepare("UPDATE outgoing_transaction SET tx_name = 'edc.consent' WHERE id = ?").run(first.id), /WRITE_OUTSIDE_PATH/);
    assert.throws(() => other.sql.prepare("UPDATE outgoing_transaction SET sig = 'forged' WHERE id = ?").run(first.id), /WRITE_OUTSIDE_PATH/, 'a signature never changes');
    // …may still record deliveries.
    assert.equal(other.sql.prepare("UPDATE outgoing_transaction SET is_consumed_server = 1, consumed_server_at = '2026-01-01T00:00:00.000Z', consumer_server = 'site-x' WHERE id = ?").run(first.id).changes, 1);
    assert.equal(other.sql.prepare('UPDATE outgoing_transaction SET is_consumed_server = 0, consumed_server_at = NULL, consumer_server = NULL WHERE id = ?').run(first.id).changes, 1);
    // A plain sqlite3 connection (a shell, another tool) is refused outright.
    const shell = new Database(path.join(field.dir, DB_FILE));
    try {
      assert.throws(() => shell.prepare('DELETE FROM outgoing_transaction WHERE id = ?').run(first.id));
      assert.throws(() => shell.prepare('UPDATE outgoing_transaction SET tx = ? WHERE id = ?').run(altered, first.id));
    } finally {
      shell.close();
    }
    assert.equal(count(), before, 'nothing deleted');
    assert.deepEqual((field.sql.prepare('SELECT tx FROM outgoing_transaction WHERE id = ?').get(first.id) as { tx: Buffer }).tx, first.tx, 'nothing altered');
  });
});
