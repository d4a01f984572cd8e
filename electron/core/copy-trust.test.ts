/**
 * The copy channel verifies the producer too (issue 10, deliverable 3): a site copying a paired laptop's store keeps
 * every signature, and an envelope altered in the laptop's store with the sqlite3 shell is refused, nothing stored.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyFrom } from './copy.ts';
import { seed } from './seed.ts';
import { DB_FILE } from './store.ts';
import { outgoingWire, pairAt, TestDirs } from './testing/fixtures.ts';

describe('copy: signatures verified like every other channel', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('a paired laptop\'s store copies with every signature; an altered envelope is refused and not stored', () => {
    const laptop = dirs.store('field', 'ra-cp1');
    seed(laptop, 3, { seed: 1 });
    const wire = outgoingWire(laptop);
    const site = dirs.store('site', 'site-cp1');
    pairAt(site, laptop);
    // Someone edits one waiting change in the laptop's store (guard triggers dropped, as an intruder with the shell would).
    const target = wire[2]!;
    laptop.close();
    const raw = new Database(path.join(laptop.dir, DB_FILE));
    for (const t of raw.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'outgoing_transaction'").all() as { name: string }[]) raw.exec(`DROP TRIGGER "${t.name}"`);
    raw.prepare('UPDATE outgoing_transaction SET timestamp = ? WHERE id = ?').run('2020-01-01T00:00:00.000Z', target.id);
    raw.close();
    const r = copyFrom(site, laptop.dir);
    assert.equal(r.accepted, wire.length - 1);
    assert.deepEqual(r.rejected.map((x) => x.id), [target.id]);
    assert.match(r.rejected[0]!.reason, /signature does not verify under ra-cp1's device key/);
    assert.equal(site.sql.prepare('SELECT 1 FROM incoming_transaction WHERE id = ?').get(target.id), undefined);
    assert.deepEqual(site.sql.prepare('SELECT count(*) AS n, count(*) FILTER (WHERE sig IS NULL) AS unsigned FROM incoming_transaction').get(), { n: wire.length - 1, unsigned: 0 });
  });
});
