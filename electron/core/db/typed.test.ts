/**
 * db/typed.ts on both drivers: whole rows typed from the drizzle schema come back by their SQL names as stored
 * (booleans as 0 / 1, blobs as Buffer), projections are checked by their zod schema, so an aggregate PostgreSQL
 * returns as a bigint reads as a number and a column that is not there fails where it is read.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { Study } from '../domain/study.ts';
import { Store } from '../store.ts';
import { TestDirs } from '../testing/fixtures.ts';
import { sharedPostgres } from '../testing/postgres.ts';
import { outgoingTransaction } from './schema.ts';
import { rowsOf, shaped } from './typed.ts';

const dirs = new TestDirs();
after(() => dirs.cleanup());

const drivers: [string, (deviceId: string) => Store][] = [
  ['SQLite', (id) => dirs.track(Store.init(dirs.path(id), 'site', id, { hostname: 't.test' }))],
  ['PostgreSQL', (id) => dirs.track(Store.init(dirs.path(id), 'site', id, { hostname: 't.test', database: sharedPostgres().createDatabase() }))],
];

for (const [name, open] of drivers) {
  describe(`typed statements on ${name}`, () => {
    it('a count is a number; a projection without the column asked for fails where it is read', () => {
      const s = open(`typed-${name}`);
      s.guarded(() => s.setState('a', '1'));
      const count = shaped(s.sql, z.object({ n: z.number() }), 'SELECT count(*) AS n FROM device_state');
      assert.equal(typeof count.get()?.n, 'number');
      const wrong = shaped(s.sql, z.object({ n: z.number() }), 'SELECT count(*) AS total FROM device_state');
      assert.throws(() => wrong.get(), z.ZodError);
    });
  });
}

describe('whole rows typed from the schema', () => {
  it('an outgoing transaction reads back by its column names, tx a Buffer, the delivery flags 0 / 1', () => {
    const field = dirs.store('field', 'ra-t1');
    new Study(field).registerSubject({ firstName: 'A', lastName: 'B', dob: '1990-01-01', identityNumber: '100000009', phone: null, gender: 'F', registrationDatetime: '2026-01-05T08:00:00.000Z' }, { user: 'ra' });
    const [row] = rowsOf(field.sql, outgoingTransaction, 'SELECT * FROM outgoing_transaction ORDER BY producer_seq LIMIT 1').all();
    assert.ok(row);
    assert.equal(row.producer, 'ra-t1');
    assert.equal(row.producer_seq, 1);
    assert.ok(Buffer.isBuffer(row.tx));
    assert.equal(row.is_consumed_server, 0);
  });
});
