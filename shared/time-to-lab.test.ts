/** The time-to-lab summary from fixed tubes and a named zone: median, worst, per local day, per laptop, CSV rows. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, minutesToLab, summariseTimeToLab, timeToLabCsv, timeToLabInputSchema, type ReceivedTube } from './time-to-lab.ts';

const GABS = 'Africa/Gaborone'; // UTC+2
const LIMITS = { CD4: 24 * 60, Chemistry: 120 };
const tube = (id: string, producer: string, panel: string, drawnAt: string, minutes: number): ReceivedTube => ({
  requisitionIdentifier: id, producer, panel, drawnAt, receivedAt: new Date(Date.parse(drawnAt) + minutes * 60_000 + 30_000).toISOString(),
});

const TUBES: ReceivedTube[] = [
  // 2 Dec (Gaborone): ra-01 three tubes, ra-02 one
  tube('RRA010000012', 'ra-01', 'CD4', '2026-12-02T06:00:00.000Z', 60),
  tube('RRA010000020', 'ra-01', 'Chemistry', '2026-12-02T06:05:00.000Z', 150), // past the 120 min limit
  tube('RRA010000038', 'ra-01', 'CD4', '2026-12-02T07:00:00.000Z', 90),
  tube('RRA020000016', 'ra-02', 'CD4', '2026-12-02T08:00:00.000Z', 40),
  // 22:30 UTC on 2 Dec is 00:30 on 3 Dec in Gaborone: a 3 Dec tube
  tube('RRA020000024', 'ra-02', 'Chemistry', '2026-12-02T22:30:00.000Z', 100),
  tube('RRA010000046', 'ra-01', 'CD4', '2026-12-03T05:00:00.000Z', 200),
  // outside the days asked for
  tube('RRA010000054', 'ra-01', 'CD4', '2026-11-30T06:00:00.000Z', 999),
];

describe('time to lab', () => {
  it('median of odd and even counts; whole minutes, a receipt before the draw counts 0', () => {
    assert.equal(median([5]), 5);
    assert.equal(median([90, 60, 150]), 90);
    assert.equal(median([40, 60, 90, 150]), 75);
    assert.equal(median([1, 2]), 1.5);
    assert.equal(minutesToLab({ drawnAt: '2026-12-02T06:00:00.000Z', receivedAt: '2026-12-02T07:42:59.000Z' }), 102);
    assert.equal(minutesToLab({ drawnAt: '2026-12-02T06:00:00.000Z', receivedAt: '2026-12-02T05:00:00.000Z' }), 0);
  });

  it('per local day, per laptop, per both, overall; past the stability limit counted', () => {
    const s = summariseTimeToLab(TUBES, { timeZone: GABS, from: '2026-12-01', to: '2026-12-03', limits: LIMITS });
    assert.equal(s.receipt, 'lab-reconciliation');
    assert.deepEqual(s.days, [
      { day: '2026-12-02', tubes: 4, medianMinutes: 75, worstMinutes: 150, worstTube: 'RRA010000020', overLimit: 1 },
      { day: '2026-12-03', tubes: 2, medianMinutes: 150, worstMinutes: 200, worstTube: 'RRA010000046', overLimit: 0 },
    ]);
    assert.deepEqual(s.laptops, [
      { producer: 'ra-01', tubes: 4, medianMinutes: 120, worstMinutes: 200, worstTube: 'RRA010000046', overLimit: 1 },
      { producer: 'ra-02', tubes: 2, medianMinutes: 70, worstMinutes: 100, worstTube: 'RRA020000024', overLimit: 0 },
    ]);
    assert.deepEqual(s.dayLaptops.map((g) => [g.day, g.producer, g.tubes, g.medianMinutes, g.worstMinutes]), [
      ['2026-12-02', 'ra-01', 3, 90, 150], ['2026-12-02', 'ra-02', 1, 40, 40], ['2026-12-03', 'ra-01', 1, 200, 200], ['2026-12-03', 'ra-02', 1, 100, 100],
    ]);
    assert.deepEqual(s.overall, { tubes: 6, medianMinutes: 95, worstMinutes: 200, worstTube: 'RRA010000046', overLimit: 1 });
  });

  it('the day is the local date in the site zone, not UTC', () => {
    const utc = summariseTimeToLab(TUBES, { timeZone: 'UTC', from: '2026-12-01', to: '2026-12-03', limits: LIMITS });
    assert.deepEqual(utc.days.map((d) => [d.day, d.tubes]), [['2026-12-02', 5], ['2026-12-03', 1]]);
  });

  it('a worst tie goes to the first identifier; no tubes: no overall, no rows', () => {
    const tie = summariseTimeToLab([tube('RB0000001', 'ra-01', 'CD4', '2026-12-02T06:00:00.000Z', 50), tube('RA0000001', 'ra-01', 'CD4', '2026-12-02T06:00:00.000Z', 50)], { timeZone: GABS, from: '2026-12-02', to: '2026-12-02', limits: {} });
    assert.equal(tie.overall?.worstTube, 'RA0000001');
    const none = summariseTimeToLab([], { timeZone: GABS, from: '2026-12-02', to: '2026-12-02', limits: {} });
    assert.equal(none.overall, null);
    assert.equal(timeToLabCsv(none), 'day_drawn,laptop,tubes,median_minutes,worst_minutes,worst_tube,over_limit\r\n');
  });

  it('CSV: day × laptop rows, then days, laptops and the period', () => {
    const csv = timeToLabCsv(summariseTimeToLab(TUBES, { timeZone: GABS, from: '2026-12-01', to: '2026-12-03', limits: LIMITS }));
    assert.deepEqual(csv.trimEnd().split('\r\n'), [
      'day_drawn,laptop,tubes,median_minutes,worst_minutes,worst_tube,over_limit',
      '2026-12-02,ra-01,3,90,150,RRA010000020,1',
      '2026-12-02,ra-02,1,40,40,RRA020000016,0',
      '2026-12-03,ra-01,1,200,200,RRA010000046,0',
      '2026-12-03,ra-02,1,100,100,RRA020000024,0',
      '2026-12-02,all,4,75,150,RRA010000020,1',
      '2026-12-03,all,2,150,200,RRA010000046,0',
      'all,ra-01,4,120,200,RRA010000046,1',
      'all,ra-02,2,70,100,RRA020000024,0',
      'all,all,6,95,200,RRA010000046,1',
    ]);
  });

  it('the boundary input: dates, from before to, at most a year', () => {
    assert.ok(timeToLabInputSchema.safeParse({}).success);
    assert.ok(timeToLabInputSchema.safeParse({ from: '2026-01-01', to: '2026-12-31' }).success);
    assert.equal(timeToLabInputSchema.safeParse({ from: '2026-12-04', to: '2026-12-03' }).error?.issues[0]?.path.join('.'), 'from');
    assert.equal(timeToLabInputSchema.safeParse({ from: '2025-01-01', to: '2026-12-03' }).success, false);
    assert.equal(timeToLabInputSchema.safeParse({ from: '3/12/2026' }).success, false);
    assert.equal(timeToLabInputSchema.safeParse({ days: 3 }).success, false);
  });
});
