/**
 * The store is integrity-checked at open after an unclean shutdown (issue 9, deliverable 10): each process that
 * opens a store marks it (`.open-<pid>`) and removes the mark when it closes; a mark whose process is gone means
 * the last run ended without closing (power cut, kill -9), and SQLite's quick_check runs before anything is used.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../shared/errors.ts';
import { seed } from './seed.ts';
import { DB_FILE, Store } from './store.ts';
import { TestDirs } from './testing/fixtures.ts';

const marks = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.open-'));
/** The pid of a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('integrity check after an unclean shutdown', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('a clean close leaves no mark and the next open runs no check', () => {
    const s = dirs.store('field', 'ra-i1');
    assert.equal(marks(s.dir).length, 1, 'open: marked');
    s.close();
    assert.deepEqual(marks(s.dir), []);
    const again = Store.open(s.dir);
    assert.equal(again.integrityChecked, false);
    again.close();
  });

  it('a mark left by a process that died: quick_check runs, a sound store opens and the stale mark goes', () => {
    const s = dirs.store('field', 'ra-i2');
    seed(s, 5);
    s.close();
    writeFileSync(path.join(s.dir, `.open-${deadPid()}`), 'x');
    const again = Store.open(s.dir);
    assert.equal(again.integrityChecked, true);
    assert.equal(marks(s.dir).length, 1, 'only this process\'s own mark');
    again.close();
    assert.deepEqual(marks(s.dir), []);
  });

  it('a store another running process has open is not taken for abandoned', () => {
    const s = dirs.store('field', 'ra-i3');
    s.close();
    writeFileSync(path.join(s.dir, `.open-${process.ppid}`), 'x'); // the test runner: alive
    const again = Store.open(s.dir);
    assert.equal(again.integrityChecked, false);
    again.close();
  });

  it('a damaged file after an unclean shutdown is refused with the reason, not used', () => {
    const s = dirs.store('field', 'ra-i4');
    seed(s, 60, { seed: 4 });
    s.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = Number(s.sqlite.pragma('page_size', { simple: true }));
    const pages = Number(s.sqlite.pragma('page_count', { simple: true }));
    s.close();
    assert.ok(pages > 20, `${pages} pages`);
    // A torn write in the middle of the file, then the process is gone without closing.
    const fd = openSync(path.join(s.dir, DB_FILE), 'r+');
    writeSync(fd, Buffer.alloc(pageSize * 3, 0xa5), 0, pageSize * 3, pageSize * Math.floor(pages / 2));
    closeSync(fd);
    writeFileSync(path.join(s.dir, `.open-${deadPid()}`), 'x');
    assert.throws(() => Store.open(s.dir), (e: unknown) => isEdcError(e, 'STORE_CORRUPT') && /integrity check after an unclean shutdown/.test(String((e as { detail?: string }).detail)));
  });
});
