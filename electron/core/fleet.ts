/**
 * Per-device state on a receiver (fleet_device, clock_reading) and what this device knows of where its own
 * transactions are (device_state `hop:*`). Everything is maintained incrementally: a contact, a push batch, a pull,
 * an import or a receipt updates one row per producer it names, so reading the Devices screen costs one row per
 * device and never a scan of the transaction log. Clock readings are recorded and flagged, never used to order.
 */
import { z } from 'zod';
import { EdcError } from '../../shared/errors.ts';
import {
  CLOCK_HISTORY_KEPT, CLOCK_SKEW_WARN_MS, clockReadingSchema, compareVersions, type FleetSort, countHeld, mergeHeld, seqRangesSchema,
  type CarriedState, type ClockReading, type ContactRequest, type ContactResponse, type DeviceFlag, type DeviceRow,
  type Holding, type Holdings, type ProducerState, type SeqRanges,
} from '../../shared/fleet.ts';
import type { Role } from '../../shared/settings.ts';
import { deviceNow } from './clock.ts';
import { containsText, jsonValues } from './db/dialect.ts';
import { fleetDevice } from './db/schema.ts';
import { rowsOf, shaped, type SqlRow } from './db/typed.ts';
import { SCHEMA_VERSION } from './domain/registry.ts';
import type { Store } from './store.ts';
import { APP_VERSION } from './version.ts';

export type HeardVia = 'contact' | 'push' | 'share' | 'middleman' | 'file';

type FleetRow = SqlRow<typeof fleetDevice>;

// Projections, checked where they are read (db/typed.ts).
const seqRow = z.object({ seq: z.number().nullable() });
const clockCut = z.object({ id: z.number() });
const hopRow = z.object({ hop: z.enum(['here', 'middleman', 'site', 'central']), n: z.number() });
const versionRow = z.object({ v: z.string() });
const fleetCounts = z.object({ total: z.number(), owing: z.number() });
const deviceIdRow = z.object({ device_id: z.string() });
const appliedRow = z.object({ producer: z.string(), applied_seq: z.number() });
const pairedRow = z.object({
  device_id: z.string(), role: z.enum(['field', 'middleman', 'site', 'central']), paired_at: z.string(), revoked_at: z.string().nullable(), last_seen_at: z.string().nullable(),
});

/** This device's own state, as every hand-over announces it. */
export function ownState(store: Store): ProducerState {
  const row = shaped(store.sql, seqRow, 'SELECT max(producer_seq) AS seq FROM outgoing_transaction WHERE producer = ?').get(store.deviceId)!;
  let keyIds: string[] = [];
  try {
    keyIds = store.requireKeys().file.keys.map((k) => k.keyId);
  } catch {
    keyIds = []; // no key set: announced as none, which the receiver flags
  }
  return {
    deviceId: store.deviceId, role: store.role, latestSeq: row.seq ?? 0, appVersion: APP_VERSION, schemaVersion: SCHEMA_VERSION,
    keyIds: keyIds.slice(0, 64), clock: deviceNow(store).toISOString(),
  };
}

function getRow(store: Store, deviceId: string): FleetRow | undefined {
  return rowsOf(store.sql, fleetDevice, 'SELECT * FROM fleet_device WHERE device_id = ?').get(deviceId);
}

function putRow(store: Store, r: FleetRow): void {
  store.sql.prepare(`INSERT INTO fleet_device (device_id, role, first_seen_at, last_seen_at, last_via, made_seq, received_seq, site_seq, central_seq,
      central_extra, app_version, schema_version, key_ids, clock_skew_ms, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT(device_id) DO UPDATE SET role = excluded.role, last_seen_at = excluded.last_seen_at, last_via = excluded.last_via,
      made_seq = excluded.made_seq, received_seq = excluded.received_seq, site_seq = excluded.site_seq, central_seq = excluded.central_seq,
      central_extra = excluded.central_extra, app_version = excluded.app_version, schema_version = excluded.schema_version,
      key_ids = excluded.key_ids, clock_skew_ms = excluded.clock_skew_ms, updated_at = excluded.updated_at`)
    .run(r.device_id, r.role, r.first_seen_at, r.last_seen_at, r.last_via, r.made_seq, r.received_seq, r.site_seq, r.central_seq,
      r.central_extra, r.app_version, r.schema_version, r.key_ids, r.clock_skew_ms, r.updated_at);
}

function rowOrNew(store: Store, deviceId: string, at: string, via: HeardVia): FleetRow {
  return getRow(store, deviceId) ?? {
    device_id: deviceId, role: null, first_seen_at: at, last_seen_at: at, last_via: via, made_seq: null, received_seq: 0, site_seq: null,
    central_seq: null, central_extra: null, app_version: null, schema_version: null, key_ids: null, clock_skew_ms: null, updated_at: at,
  };
}

const maxOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/**
 * Records what a device announced. `seenAt` is when it was heard, by this device's clock (a carried state's time is
 * translated by the carrier's skew); `skewMs` its clock minus ours, null when not measured live (a file's age is
 * unknown). An older report never overwrites a newer one; made only grows.
 */
export function recordState(store: Store, state: ProducerState, via: HeardVia, seenAt: Date, skewMs: number | null): void {
  if (state.deviceId === store.deviceId) return;
  const at = seenAt.toISOString();
  const now = deviceNow(store).toISOString();
  store.sql.transaction(() => {
    const existing = getRow(store, state.deviceId);
    const r = existing ?? rowOrNew(store, state.deviceId, at, via);
    // A new contact (not the same report carried again by a middleman's next push, nor an older one).
    const fresh = !existing || at > r.last_seen_at;
    const newer = fresh || r.app_version === null;
    r.made_seq = maxOf(r.made_seq, state.latestSeq);
    if (newer) {
      r.role = state.role;
      r.last_seen_at = at > r.last_seen_at ? at : r.last_seen_at;
      r.last_via = via;
      r.app_version = state.appVersion;
      r.schema_version = state.schemaVersion;
      r.key_ids = JSON.stringify(state.keyIds);
      if (skewMs !== null && fresh) r.clock_skew_ms = skewMs;
    }
    r.updated_at = now;
    putRow(store, r);
    if (skewMs !== null && fresh) {
      store.sql.prepare('INSERT INTO clock_reading (device_id, at, device_clock, skew_ms, via) VALUES (?, ?, ?, ?, ?)').run(state.deviceId, at, state.clock, skewMs, via);
      // Keep the latest readings only: the oldest beyond the limit go (index on (device_id, id)).
      const cut = shaped(store.sql, clockCut, 'SELECT id FROM clock_reading WHERE device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?').get(state.deviceId, CLOCK_HISTORY_KEPT);
      if (cut) store.sql.prepare('DELETE FROM clock_reading WHERE device_id = ? AND id <= ?').run(state.deviceId, cut.id);
    }
  });
}

/** A device heard live: its clock reading against ours, now. */
export function recordLive(store: Store, state: ProducerState, via: HeardVia): number {
  const now = deviceNow(store);
  const skew = Date.parse(state.clock) - now.getTime();
  recordState(store, state, via, now, skew);
  return skew;
}

/** Carried states (from a middleman's contact, or a site's manifest): times translated by the carrier's skew. */
export function recordCarried(store: Store, carried: readonly CarriedState[], via: HeardVia, carrierSkewMs: number | null): void {
  store.sql.transaction(() => {
    for (const c of carried) {
      const { seenAt, skewMs, ...state } = c;
      const seen = new Date(Date.parse(seenAt) - (carrierSkewMs ?? 0));
      // Its clock minus ours = (its minus the carrier's) + (the carrier's minus ours).
      const skew = skewMs === null ? null : skewMs + (carrierSkewMs ?? 0);
      recordState(store, state, via, seen > deviceNow(store) ? deviceNow(store) : seen, carrierSkewMs === null ? null : skew);
    }
  });
}

/** The contiguous mark of a producer's transactions held here, as last recorded (0: none). */
export function receivedSeq(store: Store, producer: string): number {
  return getRow(store, producer)?.received_seq ?? 0;
}

/** After receiving a producer's transactions: the contiguous mark held here (only grows). */
export function recordReceived(store: Store, producer: string, contiguous: number, via: HeardVia): void {
  if (producer === store.deviceId) return;
  const now = deviceNow(store).toISOString();
  const existing = getRow(store, producer);
  if (existing && contiguous <= existing.received_seq) return;
  const r = existing ?? rowOrNew(store, producer, now, via);
  r.received_seq = Math.max(r.received_seq, contiguous);
  r.made_seq = maxOf(r.made_seq, contiguous);
  r.updated_at = now;
  putRow(store, r);
}

function centralOf(r: FleetRow | undefined): { contiguous: number; extra: SeqRanges } {
  const parsed = seqRangesSchema.safeParse(r?.central_extra ? JSON.parse(r.central_extra) : []);
  return { contiguous: r?.central_seq ?? 0, extra: parsed.success ? parsed.data : [] };
}

/** Central holds these seqs of a producer (from a receipt): merged into its contiguous mark and exceptions. */
export function recordAtCentral(store: Store, producer: string, held: SeqRanges): void {
  if (producer === store.deviceId || held.length === 0) return;
  const now = deviceNow(store).toISOString();
  const r = rowOrNew(store, producer, now, 'file');
  const merged = mergeHeld(r.central_seq ?? 0, centralOf(r).extra, held);
  r.central_seq = merged.contiguous;
  r.central_extra = JSON.stringify(merged.extra);
  r.made_seq = maxOf(r.made_seq, merged.extra.length ? merged.extra[merged.extra.length - 1]![1] : merged.contiguous);
  r.updated_at = now;
  putRow(store, r);
}

/** What this server knows is held of a producer at the site and at central (central: what it holds itself). */
export function holdingFor(store: Store, producer: string): Holding {
  const r = getRow(store, producer);
  if (store.role === 'central') {
    const c = mergeHeld(r?.received_seq ?? 0, centralOf(r).extra, []);
    return { site: r?.site_seq ?? 0, central: c.contiguous, centralExtra: c.extra };
  }
  if (store.role === 'site') {
    const c = centralOf(r);
    return { site: r?.received_seq ?? 0, central: c.contiguous, centralExtra: c.extra };
  }
  // A middleman: what the site told it.
  const c = centralOf(r);
  return { site: r?.site_seq ?? 0, central: c.contiguous, centralExtra: c.extra };
}

/** A middleman learns from the site (or a laptop from a middleman) what is held of a producer. Only grows. */
export function recordHolding(store: Store, producer: string, h: Holding): void {
  if (producer === store.deviceId) {
    recordOwnHolding(store, h);
    return;
  }
  const now = deviceNow(store).toISOString();
  store.sql.transaction(() => {
    const r = rowOrNew(store, producer, now, 'contact');
    r.site_seq = maxOf(r.site_seq, h.site);
    const merged = mergeHeld(r.central_seq ?? 0, centralOf(r).extra, [...(h.central > 0 ? [[1, h.central] as [number, number]] : []), ...h.centralExtra]);
    r.central_seq = merged.contiguous;
    r.central_extra = JSON.stringify(merged.extra);
    r.updated_at = now;
    putRow(store, r);
  });
}

// ---------------------------------------------------------------- a device's view of its own transactions

const OWN_SITE = 'hop:site';
const OWN_CENTRAL = 'hop:central';

export function ownHolding(store: Store): { site: number; central: { contiguous: number; extra: SeqRanges } } {
  const site = Number(store.getState(OWN_SITE) ?? '0');
  let central = { contiguous: 0, extra: [] as SeqRanges };
  const raw = store.getState(OWN_CENTRAL);
  if (raw) {
    try {
      const v = JSON.parse(raw) as { contiguous?: unknown; extra?: unknown };
      const extra = seqRangesSchema.safeParse(v.extra);
      if (typeof v.contiguous === 'number' && extra.success) central = { contiguous: v.contiguous, extra: extra.data };
    } catch {
      // unreadable: treated as nothing known, learned again at the next contact
    }
  }
  return { site: Number.isFinite(site) ? site : 0, central };
}

/** What the site / central hold of this device's own transactions, as learned at a contact (only grows). */
export function recordOwnHolding(store: Store, h: Holding): void {
  const now = ownHolding(store);
  const central = mergeHeld(now.central.contiguous, now.central.extra, [...(h.central > 0 ? [[1, h.central] as [number, number]] : []), ...h.centralExtra]);
  store.sql.transaction(() => {
    if (h.site > now.site) store.setState(OWN_SITE, String(h.site));
    store.setState(OWN_CENTRAL, JSON.stringify(central));
  });
}

export type Hop = 'here' | 'middleman' | 'site' | 'central';

/** SQL for the hop of one own outgoing transaction (portable CASE; the central set is a mark plus ≤ 64 ranges). */
export function hopSql(store: Store): { expr: string; params: number[] } {
  const h = ownHolding(store);
  const ranges = h.central.extra.map(() => ' OR producer_seq BETWEEN ? AND ?').join('');
  return {
    expr: `CASE WHEN (producer_seq <= ?${ranges}) THEN 'central'
      WHEN is_consumed_server = 1 OR producer_seq <= ? THEN 'site'
      WHEN is_consumed_middleman = 1 THEN 'middleman' ELSE 'here' END`,
    params: [h.central.contiguous, ...h.central.extra.flat(), h.site],
  };
}

/** Own outgoing transactions per hop: on this device · with a middleman · at the site · at central. */
export function hopCounts(store: Store): Record<Hop, number> {
  const { expr, params } = hopSql(store);
  const rows = shaped(store.sql, hopRow, `SELECT hop, count(*) AS n FROM (SELECT ${expr} AS hop FROM outgoing_transaction WHERE producer = ?) AS h GROUP BY hop`)
    .all(...params, store.deviceId);
  const out: Record<Hop, number> = { here: 0, middleman: 0, site: 0, central: 0 };
  for (const r of rows) out[r.hop] = r.n;
  return out;
}

// ---------------------------------------------------------------- the receiving side of a contact

/**
 * POST /api/v1/contact on a site/central server: records the sender (live), and for a middleman the laptops it
 * carries; answers with what is held of the sender and of the producers it asked about.
 */
export function receiveContact(store: Store, who: { deviceId: string; role: Role }, req: ContactRequest): ContactResponse {
  if (req.state.deviceId !== who.deviceId || req.state.role !== who.role) {
    throw new EdcError('FORBIDDEN_PRODUCER', `device ${who.deviceId} announced itself as ${req.state.role} ${req.state.deviceId}`);
  }
  if (req.carried?.length && who.role !== 'middleman') throw new EdcError('FORBIDDEN_PRODUCER', `a ${who.role} device carries no other device's state; middlemen do`);
  for (const c of req.carried ?? []) {
    if (c.deviceId === store.deviceId || c.deviceId === who.deviceId || c.role !== 'field') {
      throw new EdcError('REQUEST_INVALID', `carried state of ${c.role} ${c.deviceId}: a middleman carries field laptops only`);
    }
  }
  let skew = 0;
  store.sql.transaction(() => {
    skew = recordLive(store, req.state, 'contact');
    if (req.carried?.length) recordCarried(store, req.carried, 'middleman', skew);
  });
  const holdings: Holdings = {};
  for (const p of new Set([who.deviceId, ...(req.producers ?? [])])) holdings[p] = holdingFor(store, p);
  return { receiver: store.deviceId, clock: deviceNow(store).toISOString(), holdings };
}

/** What a carrier (middleman, site) passes on about the devices it heard from: most recently seen first. */
export function carriedStates(store: Store, only?: readonly string[], limit = 500): CarriedState[] {
  const rows = (only
    ? only.map((p) => getRow(store, p)).filter((r): r is FleetRow => r !== undefined)
    : rowsOf(store.sql, fleetDevice, "SELECT * FROM fleet_device WHERE role = 'field' ORDER BY last_seen_at DESC LIMIT ?").all(limit));
  const out: CarriedState[] = [];
  for (const r of rows) {
    if (!r.role || r.app_version === null || r.schema_version === null || r.made_seq === null) continue;
    out.push({
      deviceId: r.device_id, role: r.role, latestSeq: r.made_seq, appVersion: r.app_version, schemaVersion: r.schema_version,
      keyIds: keyIdsOf(r), clock: new Date(Date.parse(r.last_seen_at) + (r.clock_skew_ms ?? 0)).toISOString(),
      seenAt: r.last_seen_at, skewMs: r.clock_skew_ms,
    });
  }
  return out.slice(0, limit);
}

function keyIdsOf(r: FleetRow): string[] {
  try {
    const v = JSON.parse(r.key_ids ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- the Devices screen

export interface FleetOptions {
  /** Only devices seen since (this device's clock), e.g. a middleman's "visited today". */
  seenSince?: string;
}

export interface FleetQuery extends FleetOptions {
  sort?: FleetSort;
  desc?: boolean;
  /** A page of `pageSize` rows (absent: every row). */
  page?: number;
  pageSize?: number;
}

/**
 * Every device heard from (fleet_device) or paired here (device), one row each, with the flags as 0/1 columns and
 * the attention rank, so that filtering, ordering, counting and paging happen in SQL (the same statement on SQLite
 * and PostgreSQL). The flags are those `toDeviceRow` computes; "old version" compares against the few distinct
 * versions present, decided here with `compareVersions` and bound as a JSON list.
 */
function fleetSql(store: Store): { from: string; params: unknown[] } {
  const d = store.sql.dialect;
  const versions = shaped(store.sql, versionRow, 'SELECT DISTINCT app_version AS v FROM fleet_device WHERE app_version IS NOT NULL').all().map((r) => r.v);
  const older = versions.filter((v) => compareVersions(v, APP_VERSION) < 0);
  let activeKey: string | null = null;
  try {
    activeKey = store.requireKeys().activeKeyId;
  } catch {
    activeKey = null;
  }
  const central = store.role === 'central' ? 'f.received_seq' : store.role === 'site' || store.role === 'middleman' ? 'f.central_seq' : 'NULL';
  const missingKey = activeKey ? `CASE WHEN f.key_ids IS NOT NULL AND NOT ${containsText(d, 'f.key_ids', '?')} THEN 1 ELSE 0 END` : '0';
  const from = `(SELECT u.*,
      CASE WHEN u.owing = 1 THEN 0 WHEN u.missing_key = 1 THEN 1 WHEN u.old_version = 1 THEN 2 WHEN u.clock_drift = 1 THEN 3 WHEN u.revoked = 1 THEN 4 ELSE 99 END AS attention,
      u.owing + u.missing_key + u.old_version + u.clock_drift + u.revoked AS flag_count
    FROM (
      SELECT f.device_id AS device_id, f.last_seen_at AS seen, f.made_seq AS made_seq, f.received_seq AS received_seq, coalesce(c.applied_seq, 0) AS applied,
        ${central} AS at_central, f.app_version AS app_version, f.clock_skew_ms AS clock_skew_ms,
        CASE WHEN f.made_seq IS NOT NULL AND f.made_seq > f.received_seq THEN f.made_seq - f.received_seq WHEN f.made_seq IS NOT NULL THEN 0 ELSE NULL END AS owes,
        CASE WHEN f.made_seq IS NOT NULL AND f.made_seq > f.received_seq THEN 1 ELSE 0 END AS owing,
        ${missingKey} AS missing_key,
        CASE WHEN f.app_version IS NOT NULL AND (f.app_version IN (${jsonValues(d)}) OR coalesce(f.schema_version, ${SCHEMA_VERSION}) < ${SCHEMA_VERSION}) THEN 1 ELSE 0 END AS old_version,
        CASE WHEN f.clock_skew_ms IS NOT NULL AND abs(f.clock_skew_ms) > ${CLOCK_SKEW_WARN_MS} THEN 1 ELSE 0 END AS clock_drift,
        CASE WHEN p.revoked_at IS NOT NULL THEN 1 ELSE 0 END AS revoked
      FROM fleet_device f LEFT JOIN producer_cursor c ON c.producer = f.device_id LEFT JOIN device p ON p.device_id = f.device_id
      UNION ALL
      SELECT p.device_id, p.last_seen_at, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0, CASE WHEN p.revoked_at IS NOT NULL THEN 1 ELSE 0 END
      FROM device p WHERE NOT EXISTS (SELECT 1 FROM fleet_device f WHERE f.device_id = p.device_id)
    ) AS u) AS fl`;
  // Bound in the order the placeholders appear: the key (if any), then the older versions.
  return { from, params: [...(activeKey ? [`"${activeKey}"`] : []), JSON.stringify(older)] };
}

/** The SQL value each sort orders by (nulls as -1 or '', as the screen shows "unknown" below every number). */
const SORT_EXPR: Record<Exclude<FleetSort, 'attention'>, string> = {
  deviceId: 'fl.device_id',
  flags: 'fl.flag_count',
  owes: 'coalesce(fl.owes, -1)',
  made: 'coalesce(fl.made_seq, -1)',
  received: 'fl.received_seq',
  applied: 'fl.applied',
  atCentral: 'coalesce(fl.at_central, -1)',
  lastSeen: "coalesce(fl.seen, '')",
  version: "coalesce(fl.app_version, '')",
  // Unknown (never announced), missing the active key, current.
  keys: 'CASE WHEN fl.app_version IS NULL THEN 0 WHEN fl.missing_key = 1 THEN 1 ELSE 2 END',
  clock: 'abs(coalesce(fl.clock_skew_ms, 0))',
};

/**
 * A page of the Devices list, filtered, ordered and cut in SQL, with how many devices there are and how many owe
 * changes (over the whole list, not the page). O(page) rows read back, one count.
 */
export function fleetPage(store: Store, q: FleetQuery = {}): { rows: DeviceRow[]; total: number; owing: number } {
  const { from, params } = fleetSql(store);
  const where = q.seenSince ? 'WHERE fl.seen IS NOT NULL AND fl.seen >= ?' : '';
  const args = [...params, ...(q.seenSince ? [q.seenSince] : [])];
  const counts = shaped(store.sql, fleetCounts, `SELECT count(*) AS total, count(*) FILTER (WHERE fl.owing = 1) AS owing FROM ${from} ${where}`).get(...args)!;
  const dir = q.desc ? 'DESC' : 'ASC';
  const order = !q.sort || q.sort === 'attention'
    ? 'fl.attention, coalesce(fl.owes, 0) DESC, fl.device_id'
    : `${SORT_EXPR[q.sort]} ${dir}, fl.device_id ${dir}`;
  const paged = q.pageSize !== undefined;
  const ids = shaped(store.sql, deviceIdRow, `SELECT fl.device_id FROM ${from} ${where} ORDER BY ${order}${paged ? ' LIMIT ? OFFSET ?' : ''}`)
    .all(...args, ...(paged ? [q.pageSize, (q.page ?? 0) * q.pageSize!] : [])).map((r) => r.device_id);
  return { rows: deviceRows(store, ids), total: counts.total, owing: counts.owing };
}

/** Every device heard from or paired here, attention first (the CLI's `devices list`, the tests). */
export function listFleet(store: Store, opts: FleetOptions = {}): DeviceRow[] {
  return fleetPage(store, opts).rows;
}

/** The rows of these devices, in this order, with the flags that put them on top. */
function deviceRows(store: Store, ids: readonly string[]): DeviceRow[] {
  if (ids.length === 0) return [];
  const list = JSON.stringify(ids);
  const fleet = new Map(rowsOf(store.sql, fleetDevice, `SELECT * FROM fleet_device WHERE device_id IN (${jsonValues(store.sql.dialect)})`).all(list).map((r) => [r.device_id, r]));
  const applied = new Map(shaped(store.sql, appliedRow, `SELECT producer, applied_seq FROM producer_cursor WHERE producer IN (${jsonValues(store.sql.dialect)})`).all(list)
    .map((c) => [c.producer, c.applied_seq]));
  const paired = new Map(shaped(store.sql, pairedRow, `SELECT device_id, role, paired_at, revoked_at, last_seen_at FROM device WHERE device_id IN (${jsonValues(store.sql.dialect)})`).all(list)
    .map((d) => [d.device_id, d]));
  let activeKey: string | null = null;
  try {
    activeKey = store.requireKeys().activeKeyId;
  } catch {
    activeKey = null;
  }
  return ids.map((id): DeviceRow => {
    const r = fleet.get(id);
    const p = paired.get(id) ?? null;
    if (r) return toDeviceRow(store, r, applied.get(id) ?? 0, p, activeKey);
    return {
      deviceId: id, role: p?.role ?? null, pairedAt: p?.paired_at ?? null, revokedAt: p?.revoked_at ?? null, lastSeenAt: p?.last_seen_at ?? null, lastVia: null, made: null,
      received: 0, applied: 0, atCentral: null, owes: null, appVersion: null, schemaVersion: null, keyIds: [], clockSkewMs: null,
      flags: p?.revoked_at ? ['revoked'] : [],
    };
  });
}

function toDeviceRow(store: Store, r: FleetRow, applied: number, p: { role: Role; paired_at: string; revoked_at: string | null; last_seen_at: string | null } | null, activeKey: string | null): DeviceRow {
  const keyIds = keyIdsOf(r);
  const central = store.role === 'central' ? r.received_seq : store.role === 'site' || store.role === 'middleman' ? (r.central_seq ?? null) : null;
  const owes = r.made_seq === null ? null : Math.max(0, r.made_seq - r.received_seq);
  const flags: DeviceFlag[] = [];
  if (owes) flags.push('owing');
  if (r.app_version !== null && (compareVersions(r.app_version, APP_VERSION) < 0 || (r.schema_version ?? SCHEMA_VERSION) < SCHEMA_VERSION)) flags.push('old-version');
  if (r.key_ids !== null && activeKey && !keyIds.includes(activeKey)) flags.push('missing-key');
  if (r.clock_skew_ms !== null && Math.abs(r.clock_skew_ms) > CLOCK_SKEW_WARN_MS) flags.push('clock-drift');
  if (p?.revoked_at) flags.push('revoked');
  return {
    deviceId: r.device_id, role: r.role ?? p?.role ?? null, pairedAt: p?.paired_at ?? null, revokedAt: p?.revoked_at ?? null,
    lastSeenAt: r.last_seen_at, lastVia: r.last_via, made: r.made_seq, received: r.received_seq, applied, atCentral: central, owes,
    appVersion: r.app_version, schemaVersion: r.schema_version, keyIds, clockSkewMs: r.clock_skew_ms, flags,
  };
}

/** Midnight today by this device's clock (UTC), for "visited today". */
export function startOfToday(store: Store): string {
  const d = deviceNow(store);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())).toISOString();
}

export function clockHistory(store: Store, deviceId: string): ClockReading[] {
  return shaped(store.sql, clockReadingSchema, 'SELECT at, skew_ms AS "skewMs", via FROM clock_reading WHERE device_id = ? ORDER BY id DESC LIMIT ?')
    .all(deviceId, CLOCK_HISTORY_KEPT);
}

/** Held at central of a producer up to `upTo` (for counts). */
export function centralCount(store: Store, producer: string, upTo: number): number {
  return countHeld(centralOf(getRow(store, producer)), upTo);
}
