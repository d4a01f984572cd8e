/**
 * Query.later (port.ts), the consumer's writes sent with the next statement, against both drivers: SQLite (run at
 * once) and PostgreSQL (held back, then sent as one script of quoted literals in the next round trip: pg-worker.ts
 * runScript). The same calls must leave the same rows on both: in order, every value as it was bound, a failure
 * failing the transaction, a savepoint undoing its own; and the script's cutting of placeholders never touches a
 * `$1` inside a quoted string.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Store } from '../store.ts';
import { TestDirs } from '../testing/fixtures.ts';
import { sharedPostgres } from '../testing/postgres.ts';
import { cut, script } from './pg-script.ts';

const dirs = new TestDirs();
after(() => dirs.cleanup());

const drivers: [string, () => Store][] = [
  ['SQLite', () => dirs.track(Store.init(dirs.path(`s-${Math.random().toString(36).slice(2)}`), 'central', 'central-01', { hostname: 'c.test' }))],
  ['PostgreSQL', () => dirs.track(Store.init(dirs.path(`p-${Math.random().toString(36).slice(2)}`), 'central', 'central-01', { hostname: 'c.test', database: sharedPostgres().createDatabase() }))],
];

const AWKWARD = ["it's", 'back\\slash and \\x00 text', 'bytes: \\x4142', "both ' and \\", 'a $1 inside', 'Ntšhe Mogale ✓', '', "'); DROP TABLE device_state; --"];

for (const [name, open] of drivers) {
  describe(`Query.later on ${name}`, () => {
    const state = (s: Store) => s.sql.prepare('SELECT key, value FROM device_state WHERE key LIKE ? ORDER BY key').all('t:%') as { key: string; value: string | null }[];

    it('writes in order, each value exactly as bound, seen by the next statement', () => {
      const s = open();
      const put = s.sql.prepare('INSERT INTO device_state (key, value) VALUES (?, ?)');
      const set = s.sql.prepare('UPDATE device_state SET value = ? WHERE key = ?');
      const seen = s.sql.transaction(() => {
        AWKWARD.forEach((v, i) => put.later(`t:${i}`, v));
        put.later(['t:n', 'forty-two']); // one array: the list of values, as run() takes it
        set.later('changed', 't:0'); // after the insert it follows
        return (s.sql.prepare('SELECT count(*) AS n FROM device_state WHERE key LIKE ?').get('t:%') as { n: number }).n;
      });
      assert.equal(seen, AWKWARD.length + 1);
      const rows = new Map(state(s).map((r) => [r.key, r.value]));
      assert.equal(rows.get('t:0'), 'changed');
      AWKWARD.slice(1).forEach((v, i) => assert.equal(rows.get(`t:${i + 1}`), v));
      assert.equal(rows.get('t:n'), 'forty-two');
    });

    it('more rows than are held back at once (a run of one INSERT) all arrive, in order', () => {
      const s = open();
      const put = s.sql.prepare('INSERT INTO device_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING');
      s.sql.transaction(() => {
        for (let i = 0; i < 2_500; i++) put.later(`t:${String(i).padStart(5, '0')}`, `v${i}`);
        put.later('t:00000', 'a second one: nothing'); // ON CONFLICT keeps its meaning in the merged statement
      });
      const rows = state(s);
      assert.equal(rows.length, 2_500);
      assert.equal(rows[0]!.value, 'v0');
      assert.equal(rows[2_499]!.value, 'v2499');
    });

    it('a value the script cannot carry (a NUL) is an ordinary failure of its own statement, bound', () => {
      const s = open();
      const put = s.sql.prepare('INSERT INTO device_state (key, value) VALUES (?, ?)');
      s.sql.transaction(() => {
        put.later('t:before', 'held back');
        // SQLite stores it; PostgreSQL refuses text with NUL (22021), as it would a bound value: the savepoint isolates it.
        try {
          s.sql.savepoint(() => put.later('t:nul', 'a\u0000b'));
        } catch (e) {
          assert.equal((e as { code?: string }).code, '22021');
        }
        put.later('t:after', 'after');
      });
      assert.deepEqual(state(s).map((r) => r.key).filter((k) => k !== 't:nul'), ['t:after', 't:before']);
    });

    it('a write that fails fails its transaction, which leaves nothing', () => {
      const s = open();
      const put = s.sql.prepare('INSERT INTO device_state (key, value) VALUES (?, ?)');
      assert.throws(() => s.sql.transaction(() => {
        put.later('t:a', 'first');
        put.later('t:a', 'the same key again');
        put.later('t:b', 'after the failure');
      }));
      assert.deepEqual(state(s), []);
      // The store goes on: the next transaction writes.
      s.sql.transaction(() => put.later('t:c', 'next'));
      assert.deepEqual(state(s), [{ key: 't:c', value: 'next' }]);
    });

    it('a savepoint that throws undoes its own writes, not those before it', () => {
      const s = open();
      const put = s.sql.prepare('INSERT INTO device_state (key, value) VALUES (?, ?)');
      s.sql.transaction(() => {
        put.later('t:kept', 'before');
        assert.throws(() => s.sql.savepoint(() => {
          put.later('t:undone', 'inside');
          throw new Error('changed my mind');
        }), /changed my mind/);
        // A failure inside the savepoint, seen at its end: undone with it, the transaction goes on.
        assert.throws(() => s.sql.savepoint(() => {
          put.later('t:kept', 'a duplicate');
        }));
        put.later('t:after', 'after');
      });
      assert.deepEqual(state(s).map((r) => r.key), ['t:after', 't:kept']);
      assert.equal(state(s).find((r) => r.key === 't:kept')!.value, 'before');
    });
  });
}

describe('the script of held-back writes', () => {
  it('cuts at placeholders only outside quoted strings and identifiers', () => {
    assert.deepEqual(cut(`INSERT INTO "t$1" (a, b) VALUES ($1, '$2') ON CONFLICT DO NOTHING`), { pieces: ['INSERT INTO "t$1" (a, b) VALUES (', ", '$2') ON CONFLICT DO NOTHING"], slots: [1] });
    assert.deepEqual(cut('UPDATE t SET a = $2 WHERE id = $10'), { pieces: ['UPDATE t SET a = ', ' WHERE id = ', ''], slots: [2, 10] });
  });

  it('merges a run of one INSERT … DO NOTHING into one statement, never one that updates on conflict', () => {
    const q = (s: string) => `'${s}'`;
    const run = (text: string) => script([{ text, values: ['a', 1] }, { text, values: ['b', null] }], q);
    assert.equal(run('INSERT INTO t (k, v) VALUES ($1, $2) ON CONFLICT(k) DO NOTHING'), "INSERT INTO t (k, v) VALUES ('a', '1'), ('b', NULL) ON CONFLICT(k) DO NOTHING");
    assert.equal(run('INSERT INTO t (k, v) VALUES ($1, $2) ON CONFLICT(k) DO UPDATE SET v = excluded.v'),
      "INSERT INTO t (k, v) VALUES ('a', '1') ON CONFLICT(k) DO UPDATE SET v = excluded.v;\nINSERT INTO t (k, v) VALUES ('b', NULL) ON CONFLICT(k) DO UPDATE SET v = excluded.v");
  });
});
