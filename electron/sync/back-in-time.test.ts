/**
 * A laptop restored from yesterday's backup (issue 9, deliverable 10), against a real site server process: its new
 * changes reuse producerSeq numbers the site already holds under other ids. The push says so, renumbers the changes
 * that reached no one past the site's mark, and delivers every one; what the site already had is not made again,
 * nothing is lost, nothing duplicated, no gap at the site. And a waiting change damaged in the laptop's store is
 * reported and kept, never sent and marked delivered.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { cpSync, rmSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Study } from '../core/domain/study.ts';
import { readStatus } from '../core/status.ts';
import { DB_FILE, Store } from '../core/store.ts';
import { outgoingWire, TestDirs } from '../core/testing/fixtures.ts';
import { pairWithSite, startServer, waitForStore, type ServerProc } from '../core/testing/processes.ts';
import { wireSignatureValid } from '../core/envelope.ts';
import { behindSentence, push, renumberedSentence } from './push.ts';

const ra = { user: 'ra.test' };
const person = (n: number) => ({ firstName: `Name${n}`, lastName: 'Kgosi', dob: `1990-01-0${n}`, identityNumber: `6600${n}0000`, phone: null, gender: 'M' as const, registrationDatetime: '2026-01-05T08:00:00.000Z' });

describe('a laptop that went back in time', () => {
  let dirs: TestDirs;
  let site: ServerProc;
  let siteDir: string;
  before(async () => {
    dirs = new TestDirs();
    const s = dirs.store('site', 'site-bt');
    s.close();
    siteDir = s.dir;
    site = await startServer(siteDir);
  });
  after(async () => {
    await site.kill();
    dirs.cleanup();
  });

  it('restored from yesterday\'s backup: says so, renumbers what reached no one past the site\'s mark, every change arrives once', async () => {
    let laptop = dirs.store('field', 'ra-bt');
    await pairWithSite(laptop, siteDir, site.url);
    const subjects = [1, 2, 3].map((n) => String(new Study(laptop).registerSubject(person(n), ra).id));
    await push(laptop);
    const visits = (s: Store, round: number, n: number) => {
      for (let k = 0; k < n; k++) {
        new Study(s).write.insert('edc.visit', { subjectId: subjects[k % 3]!, visitCode: '1000', visitCodeSequence: round * 10 + k, visitDatetime: '2026-01-06T08:00:00.000Z', reason: 'scheduled' }, ra);
      }
    };
    visits(laptop, 2, 3); // made yesterday, not yet sent when the backup was taken
    laptop.close();
    const backup = dirs.path('backup-ra-bt');
    cpSync(laptop.dir, backup, { recursive: true });
    laptop = dirs.track(Store.open(laptop.dir));
    visits(laptop, 3, 4); // made after the backup, and pushed
    assert.equal((await push(laptop)).accepted, 7);
    const mark = outgoingWire(laptop).length;
    // The disk fails; the laptop is restored from yesterday's backup.
    laptop.close();
    rmSync(laptop.dir, { recursive: true, force: true });
    cpSync(backup, laptop.dir, { recursive: true });
    laptop = dirs.track(Store.open(laptop.dir));
    const ownLast = outgoingWire(laptop).length;
    assert.ok(ownLast < mark, 'the laptop is behind the site');
    visits(laptop, 4, 2); // new work, numbered as the site already holds round 3's
    const r = await push(laptop);
    assert.deepEqual(r.rejected, [], 'nothing left refused');
    assert.equal(r.duplicates, 3, 'yesterday\'s unsent changes: the site had them, counted as duplicates');
    assert.deepEqual(r.behind, { mark, ownLast: ownLast + 2 }, 'said: the site holds more of this laptop than it has');
    assert.deepEqual(r.renumbered && { ...r.renumbered, ids: r.renumbered.ids.length }, { ids: 2, count: 2, mark, ownLast: ownLast + 2, from: mark + 1, to: mark + 2 });
    assert.match(renumberedSentence('ra-bt', 'site-bt', r.renumbered!), new RegExp(`^this laptop went back in time .*site-bt already holds ra-bt's changes up to ${mark}.*2 change\\(s\\) that had reached no one were renumbered ${mark + 1}–${mark + 2} and sent, every one kept$`));
    assert.equal(readStatus(laptop).outgoing.pendingServer, 0);
    for (const e of outgoingWire(laptop)) assert.ok(wireSignatureValid(e, laptop.signingKey.publicKey), `signed for its number: #${e.producerSeq}`);
    const st = await waitForStore(siteDir, (s) => s.incoming.consumed === mark + 2);
    assert.deepEqual([st.incoming.total, st.incoming.error, st.incoming.conflicts, st.incoming.pending, st.incoming.gaps.length], [mark + 2, 0, 0, 0, 0]);
    assert.equal(st.records['edc.visit'], 3 + 4 + 2, 'every visit once: yesterday\'s, the lost ones the site had, the new ones');
    assert.equal(st.records['edc.subject'], 3);
    // The laptop carries on: its next change follows the renumbered ones.
    visits(laptop, 5, 1);
    const next = await push(laptop);
    assert.deepEqual([next.accepted, next.renumbered], [1, undefined]);
    await waitForStore(siteDir, (s) => s.incoming.consumed === mark + 3 && s.incoming.gaps.length === 0);
  });

  it('a -wal cut off after a push: the laptop says it is behind the site, and its next change arrives under a new number', async () => {
    let laptop = dirs.store('field', 'ra-bw');
    await pairWithSite(laptop, siteDir, site.url);
    const first = String(new Study(laptop).registerSubject(person(7), ra).id);
    new Study(laptop).registerSubject(person(8), ra);
    await push(laptop);
    laptop.close(); // checkpointed: the database file holds these two and their delivery marks
    laptop = dirs.track(Store.open(laptop.dir));
    new Study(laptop).registerSubject(person(9), ra);
    assert.equal((await push(laptop)).accepted, 1);
    // The machine loses power and the -wal is lost: the copy taken now, while the store is open, without its -wal.
    const copy = dirs.path('ra-bw-after-crash');
    cpSync(laptop.dir, copy, { recursive: true });
    laptop.close();
    truncateSync(path.join(copy, `${DB_FILE}-wal`), 0);
    rmSync(path.join(copy, `${DB_FILE}-shm`), { force: true });
    const crashed = dirs.track(Store.open(copy));
    assert.equal(outgoingWire(crashed).length, 2, 'the last change is gone from the laptop');
    const quiet = await push(crashed);
    assert.deepEqual([quiet.sent, quiet.behind], [0, { mark: 3, ownLast: 2 }]);
    assert.match(behindSentence('ra-bw', 'the server', quiet.behind!), /^this laptop is behind the server: the server holds ra-bw's changes up to 3, this laptop's own go only to 2 /);
    new Study(crashed).write.insert('edc.visit', { subjectId: first, visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-06T08:00:00.000Z', reason: 'scheduled' }, ra);
    const r = await push(crashed);
    assert.deepEqual([r.accepted, r.rejected.length, r.renumbered?.from, r.renumbered?.to], [1, 0, 4, 4]);
    const st = await waitForStore(siteDir, (s) => s.records['edc.visit'] === 3 + 4 + 2 + 1 + 1);
    assert.deepEqual([st.incoming.error, st.incoming.conflicts, st.incoming.gaps.length], [0, 0, 0]);
  });

  it('a waiting change damaged in the laptop\'s store is reported and kept, never sent and marked delivered', async () => {
    let laptop = dirs.store('field', 'ra-bd');
    await pairWithSite(laptop, siteDir, site.url);
    for (const n of [4, 5, 6]) new Study(laptop).registerSubject(person(n), ra);
    const target = outgoingWire(laptop)[1]!;
    // The store is damaged under the app (here: one byte of a waiting payload changed with the sqlite3 shell).
    laptop.close();
    const raw = new Database(path.join(laptop.dir, DB_FILE));
    for (const t of raw.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'outgoing_transaction'").all() as { name: string }[]) raw.exec(`DROP TRIGGER "${t.name}"`);
    const bytes = raw.prepare('SELECT tx FROM outgoing_transaction WHERE id = ?').get(target.id) as { tx: Buffer };
    bytes.tx[10] = bytes.tx[10]! ^ 0xff;
    raw.prepare('UPDATE outgoing_transaction SET tx = ? WHERE id = ?').run(bytes.tx, target.id);
    raw.close();
    laptop = dirs.track(Store.open(laptop.dir));
    const r = await push(laptop);
    assert.equal(r.accepted, 1, 'the change before it is sent');
    assert.equal(r.held.length, 1);
    assert.equal(r.held[0]!.count, 2, 'the damaged one, and the one after it that waits behind it');
    assert.match(r.held[0]!.reason, /^ra-bd's change #2 is damaged in this laptop's store \(it no longer matches its signature\); it is kept here and not sent/);
    assert.equal(readStatus(laptop).outgoing.pendingServer, 2, 'nothing of it marked delivered');
    const st = await waitForStore(siteDir, (s) => s.incoming.pending === 0);
    assert.equal(st.incoming.error, 0, 'the site never got the damaged payload');
    const atSite = Store.open(siteDir);
    try {
      assert.deepEqual(atSite.sql.prepare("SELECT producer_seq AS seq, is_consumed AS consumed FROM incoming_transaction WHERE producer = 'ra-bd'").all(), [{ seq: 1, consumed: 1 }]);
    } finally {
      atSite.close();
    }
  });
});
