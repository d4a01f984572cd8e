/**
 * Time to lab on a site: each tube's draw-to-receipt time, summarised per local day of the draw and per laptop.
 *
 * "Receipt" is when the lab's reconciliation at this site matched the tube (specimen_reconciliation.reconciled_at
 * of this device's reconciliations: the lab assistant scanned it and pressed Finish). That is what the data
 * supports for the physical tube. The site's receipt of the requisition (incoming_transaction.received_at) is when
 * the *data* arrived, by REST or with the driver's sync, which can be hours before or after the tube: it says
 * nothing about the blood, so it is not used. Tubes matched by several of this site's reconciliations count once,
 * at the first.
 *
 * Cost: one indexed query over this site's reconciliations in (and a day around) the asked days, their matched
 * lists (json_each) and the requisitions they name (unique index on requisition_identifier); no transaction log
 * is read. The summary is then a sort per group in memory (see shared/time-to-lab.ts).
 */
import { z } from 'zod';
import { addDays, localDate, localToMs, zoneOrLocal } from '../../shared/local-time.ts';
import { summariseTimeToLab, type ReceivedTube, type TimeToLab, type TimeToLabInput } from '../../shared/time-to-lab.ts';
import { deviceNow } from './clock.ts';
import type { Store } from './store.ts';
import { shaped } from './db/typed.ts';
import { jsonEach, orderedJoin } from './db/dialect.ts';

const DAY_MS = 86_400_000;

const receivedTube = z.object({ requisitionIdentifier: z.string(), producer: z.string(), panel: z.string(), drawnAt: z.string(), receivedAt: z.string() }) satisfies z.ZodType<ReceivedTube>;

/**
 * This site's received tubes drawn between two instants (a day's margin either way; the summary filters exactly).
 * CROSS JOIN fixes the loop order: reconciliations, then their matched codes, then each requisition by its unique
 * index (left to itself, SQLite scanned every requisition against every reconciliation: 0.5 s at 3,000 tubes).
 */
export function receivedTubes(store: Store, fromMs: number, toMs: number): ReceivedTube[] {
  const lo = new Date(fromMs - DAY_MS).toISOString();
  const hi = new Date(toMs + DAY_MS).toISOString();
  return shaped(store.sql, receivedTube, `SELECT r.requisition_identifier AS "requisitionIdentifier", r.device_id AS producer, r.panel AS panel,
        r.drawn_datetime AS "drawnAt", min(x.reconciled_at) AS "receivedAt"
      FROM specimen_reconciliation x CROSS JOIN ${jsonEach(store.sql.dialect, 'x.matched', 'j')}
      ${orderedJoin(store.sql.dialect)} specimen_requisition r ON r.requisition_identifier = j.value
      WHERE x.device_id = ? AND x.reconciled_at >= ? AND r.drawn_datetime >= ? AND r.drawn_datetime < ?
      GROUP BY r.requisition_identifier, r.device_id, r.panel, r.drawn_datetime`).all(store.deviceId, lo, lo, hi);
}

/** The summary for the asked local days (default: the 14 days up to today on this device's clock). */
export function timeToLab(store: Store, input: TimeToLabInput = {}, nowMs: number = deviceNow(store).getTime()): TimeToLab {
  const timeZone = zoneOrLocal(store.settings.timeZone);
  const to = input.to ?? localDate(nowMs, timeZone);
  const from = input.from ?? addDays(to, -13);
  const tubes = receivedTubes(store, localToMs(from, 0, 0, timeZone), localToMs(addDays(to, 1), 0, 0, timeZone));
  return summariseTimeToLab(tubes, { timeZone, from, to, limits: store.settings.stabilityMinutes });
}
