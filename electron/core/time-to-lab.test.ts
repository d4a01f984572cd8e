/**
 * Time to lab on a site's store: receipts are this site's lab reconciliations (not a driver's, not data arrival),
 * days are local dates in the site's zone, the default period ends today by a fixed device clock; 3,000 tubes stay fast.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Consumer } from './consumer.ts';
import { copyFrom } from './copy.ts';
import { Study } from './domain/study.ts';
import type { Store } from './store.ts';
import { pairAt, TestDirs } from './testing/fixtures.ts';
import { timeToLab } from './time-to-lab.ts';

const ra = { user: 'ra.test' };
const at = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

/** A field laptop with one participant and a visit; returns a function that draws a tube at a time. */
function laptop(dirs: TestDirs, id: string): { store: Store; draw: (panel: string, drawnAt: string) => string } {
  const store = dirs.store('field', id);
  const study = new Study(store);
  const s = study.registerSubject({ firstName: 'Neo', lastName: 'Kgosi', dob: '1990-04-02', identityNumber: `1234${id}`, phone: null, gender: 'F', registrationDatetime: '2026-11-01T06:00:00.000Z' }, ra);
  const v = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-11-01T06:10:00.000Z', reason: 'scheduled' }, ra);
  return { store, draw: (panel, drawnAt) => String(study.requisition({ visitId: String(v.id), panel, specimenType: 'whole blood', drawnDatetime: drawnAt, itemCount: 1 }, ra).requisition_identifier) };
}

describe('time to lab on the site', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('per local day and per laptop from this site\'s reconciliations', () => {
    const a = laptop(dirs, 'ra-01');
    const b = laptop(dirs, 'ra-02');
    const a1 = a.draw('CD4', '2026-12-02T06:00:00.000Z');
    const a2 = a.draw('Chemistry', '2026-12-02T06:30:00.000Z');
    const a3 = a.draw('CD4', '2026-12-02T22:30:00.000Z'); // 00:30 on 3 Dec in Gaborone
    const b1 = b.draw('CD4', '2026-12-02T07:00:00.000Z');
    const b2 = b.draw('CD4', '2026-12-02T07:10:00.000Z'); // never received at the lab
    const site = dirs.store('site', 'site-01');
    site.settings.timeZone = 'Africa/Gaborone';
    pairAt(site, a.store, b.store);
    copyFrom(site, a.store.dir);
    copyFrom(site, b.store.dir);
    assert.equal(new Consumer(site).consume().errors, 0);

    // A driver's reconciliation that reached the site is not a lab receipt; the site's own are.
    const mm = dirs.store('middleman', 'mm-01');
    new Study(mm).reconcile({ reconciledAt: at('2026-12-02T06:00:00.000Z', 5), location: 'car', matched: JSON.stringify([a1, a2, b1, b2]), missing: '[]', unexpected: '[]' }, ra);
    pairAt(site, mm);
    copyFrom(site, mm.dir);
    new Consumer(site).consume();
    const lab = new Study(site);
    lab.reconcile({ reconciledAt: '2026-12-02T08:00:00.000Z', location: 'lab', matched: JSON.stringify([a1, a2, b1]), missing: JSON.stringify([b2]), unexpected: '[]' }, ra);
    lab.reconcile({ reconciledAt: '2026-12-03T01:00:00.000Z', location: 'lab', matched: JSON.stringify([a3]), missing: '[]', unexpected: '[]' }, ra);
    // A second match of a tube counts at the first one.
    lab.reconcile({ reconciledAt: '2026-12-03T09:00:00.000Z', location: 'lab', matched: JSON.stringify([a1]), missing: '[]', unexpected: '[]' }, ra);

    const now = Date.parse('2026-12-03T10:00:00.000Z'); // 12:00 on 3 Dec in Gaborone: the fixed clock
    const s = timeToLab(site, {}, now);
    assert.equal(s.timeZone, 'Africa/Gaborone');
    assert.deepEqual([s.from, s.to], ['2026-11-20', '2026-12-03'], 'the 14 days up to today');
    // a1 120 min, a2 90 min (Chemistry: past its 120? no), b1 60 min; a3 150 min.
    assert.deepEqual(s.days, [
      { day: '2026-12-02', tubes: 3, medianMinutes: 90, worstMinutes: 120, worstTube: a1, overLimit: 0 },
      { day: '2026-12-03', tubes: 1, medianMinutes: 150, worstMinutes: 150, worstTube: a3, overLimit: 0 },
    ]);
    assert.deepEqual(s.laptops.map((g) => [g.producer, g.tubes, g.medianMinutes, g.worstMinutes]), [['ra-01', 3, 120, 150], ['ra-02', 1, 60, 60]]);
    assert.deepEqual(s.overall && [s.overall.tubes, s.overall.medianMinutes, s.overall.worstMinutes], [4, 105, 150]);
    // One day asked for; a day on which nothing was drawn.
    assert.deepEqual(timeToLab(site, { from: '2026-12-03', to: '2026-12-03' }, now).days.map((d) => d.day), ['2026-12-03']);
    assert.equal(timeToLab(site, { from: '2026-12-01', to: '2026-12-01' }, now).overall, null);
    // In UTC, a3 is a 2 Dec tube.
    site.settings.timeZone = 'UTC';
    assert.deepEqual(timeToLab(site, { from: '2026-12-02', to: '2026-12-03' }, now).days.map((d) => [d.day, d.tubes]), [['2026-12-02', 4]]);
  });

  it('3,000 received tubes summarise in milliseconds', () => {
    const store = dirs.store('site', 'site-02');
    const study = new Study(store);
    const s = study.registerSubject({ firstName: 'Neo', lastName: 'Kgosi', dob: '1990-04-02', identityNumber: '99887766', phone: null, gender: 'F', registrationDatetime: '2026-11-01T06:00:00.000Z' }, ra);
    const v = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-11-01T06:10:00.000Z', reason: 'scheduled' }, ra);
    const start = Date.parse('2026-11-01T05:00:00.000Z');
    study.write.batch(() => {
      for (let day = 0; day < 30; day++) {
        const ids: string[] = [];
        for (let i = 0; i < 100; i++) {
          ids.push(String(study.requisition({ visitId: String(v.id), panel: 'CD4', specimenType: 'whole blood', drawnDatetime: new Date(start + day * 86_400_000 + i * 60_000).toISOString(), itemCount: 1 }, ra).requisition_identifier));
        }
        study.reconcile({ reconciledAt: new Date(start + day * 86_400_000 + 4 * 3_600_000).toISOString(), location: 'lab', matched: JSON.stringify(ids), missing: '[]', unexpected: '[]' }, ra);
      }
    });
    const now = Date.parse('2026-11-30T18:00:00.000Z');
    timeToLab(store, { from: '2026-11-01', to: '2026-11-30' }, now); // warm the statement cache
    const t0 = performance.now();
    const r = timeToLab(store, { from: '2026-11-01', to: '2026-11-30' }, now);
    const ms = performance.now() - t0;
    assert.equal(r.overall?.tubes, 3000);
    assert.equal(r.days.length, 30);
    assert.equal(r.overall?.worstMinutes, 240);
    assert.equal(r.overall?.medianMinutes, (190 + 191) / 2);
    console.log(`time to lab over 3,000 tubes: ${ms.toFixed(1)} ms`);
    assert.ok(ms < 250, `${ms} ms`);
  });
});
