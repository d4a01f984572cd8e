/**
 * What file import waits for (written by files/import.ts at each run, read by status and the Consumed batches
 * screen): each exporter's missing batch numbers with since when, and files left without their other half; and,
 * per producer, why its transactions wait (producerWaits).
 */
import { z } from 'zod';
import { batchGapSchema, unmatchedFileSchema, type BatchGap, type ProducerWait, type UnmatchedFile } from '../../shared/status.ts';
import { Consumer } from './consumer.ts';
import type { KeySet } from './crypto/keyset.ts';
import { shaped } from './db/typed.ts';
import { SCHEMA_VERSION } from './domain/registry.ts';
import type { Store } from './store.ts';

// What producerWaits reads, checked where it is read (db/typed.ts).
const pendingRow = z.object({ producer: z.string(), key_id: z.string(), newer: z.number(), sv: z.number(), n: z.number() });
const problemRow = z.object({
  producer: z.string(), deferred: z.number(), since: z.string().nullable(), reason: z.string().nullable(), schema: z.number(), sv: z.number().nullable(),
  key: z.number(), blocked: z.number(),
});
const keyIdRow = z.object({ key_id: z.string() });
const firstBlockedRow = z.object({ blocked_by: z.string(), blocked_reason: z.string().nullable() });

export const BATCH_GAPS_STATE = 'importBatchGaps';
export const UNMATCHED_STATE = 'importUnmatched';

export function batchGaps(store: Store): BatchGap[] {
  return store.getStateJson(BATCH_GAPS_STATE, z.array(batchGapSchema)) ?? [];
}

export function unmatchedFiles(store: Store): UnmatchedFile[] {
  return store.getStateJson(UNMATCHED_STATE, z.array(unmatchedFileSchema)) ?? [];
}

/** Kinds in the order a person reads them for one producer: what is missing first, then what holds the rest. */
const KIND_ORDER: Record<ProducerWait['kind'], number> = { gap: 0, key: 1, schema: 2, blocked: 3, deferred: 4 };

/**
 * Per producer, why its transactions wait here (status `incoming.producerWaits`, the Status and Consumed batches
 * screens). Reads the problem rows through the partial index that holds only them, and the pending rows above each
 * producer's cursor on the (producer, producerSeq) index: nothing scans what was applied.
 */
export function producerWaits(store: Store): ProducerWait[] {
  const out: ProducerWait[] = [];
  for (const g of new Consumer(store).gaps()) out.push({ producer: g.producer, kind: 'gap', count: g.to - g.from + 1, from: g.from, to: g.to });
  const keys = loadedKeys(store);
  const key = new Map<string, { count: number; keyIds: Set<string> }>();
  const schema = new Map<string, { count: number; schemaVersion: number }>();
  const addKey = (producer: string, keyId: string, n: number) => {
    const k = key.get(producer) ?? { count: 0, keyIds: new Set<string>() };
    k.count += n;
    k.keyIds.add(keyId);
    key.set(producer, k);
  };
  const addSchema = (producer: string, version: number, n: number) => {
    const v = schema.get(producer) ?? { count: 0, schemaVersion: 0 };
    v.count += n;
    v.schemaVersion = Math.max(v.schemaVersion, version);
    schema.set(producer, v);
  };
  // Not tried yet, above the cursor: what this device cannot read held back by the consumer (no key at all, or a key
  // set that opens none of them), or simply not reached yet.
  const pending = shaped(store.sql, pendingRow, `SELECT producer, key_id, newer, max(sv) AS sv, count(*) AS n FROM (
      SELECT i.producer, i.key_id, CASE WHEN i.schema_version > ? THEN 1 ELSE 0 END AS newer, i.schema_version AS sv
      FROM producer_cursor c JOIN incoming_transaction i ON i.producer = c.producer AND i.producer_seq > c.applied_seq
      WHERE i.is_consumed = 0 AND i.is_error = 0 AND i.is_conflict = 0 AND i.blocked_by IS NULL
    ) AS p GROUP BY producer, key_id, newer`).all(SCHEMA_VERSION);
  for (const p of pending) {
    if (!keys?.hasKey(p.key_id)) addKey(p.producer, p.key_id, p.n);
    else if (p.newer) addSchema(p.producer, p.sv, p.n);
  }
  // Everything else is a problem row (failed, conflicting, blocked or deferred): one pass over exactly the rows of the
  // partial index incoming_problem_session (the WHERE is its condition), grouped per producer.
  const DEFERRED = 'is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND blocked_by IS NULL AND deferred_count > 0';
  const SCHEMA_ERR = "is_error = 1 AND error LIKE 'SCHEMA_TOO_NEW%'";
  const KEY_ERR = "is_error = 1 AND error LIKE 'KEY_UNKNOWN%'";
  const problems = shaped(store.sql, problemRow, `SELECT producer,
      sum(CASE WHEN ${DEFERRED} THEN 1 ELSE 0 END) AS deferred, min(CASE WHEN ${DEFERRED} THEN deferred_since END) AS since,
      min(CASE WHEN ${DEFERRED} THEN deferred_reason END) AS reason,
      sum(CASE WHEN ${SCHEMA_ERR} THEN 1 ELSE 0 END) AS schema, max(CASE WHEN ${SCHEMA_ERR} THEN schema_version END) AS sv,
      sum(CASE WHEN ${KEY_ERR} THEN 1 ELSE 0 END) AS "key",
      sum(CASE WHEN blocked_by IS NOT NULL THEN 1 ELSE 0 END) AS blocked
    FROM incoming_transaction WHERE is_error = 1 OR is_conflict = 1 OR blocked_by IS NOT NULL OR (is_consumed = 0 AND deferred_count > 0)
    GROUP BY producer`).all();
  const keyIdsOf = shaped(store.sql, keyIdRow, `SELECT DISTINCT key_id FROM incoming_transaction WHERE producer = ? AND ${KEY_ERR} ORDER BY key_id`);
  const firstBlocked = shaped(store.sql, firstBlockedRow, 'SELECT blocked_by, blocked_reason FROM incoming_transaction WHERE producer = ? AND blocked_by IS NOT NULL ORDER BY producer_seq LIMIT 1');
  for (const p of problems) {
    if (p.schema > 0) addSchema(p.producer, p.sv ?? SCHEMA_VERSION + 1, p.schema);
    if (p.key > 0) {
      const ids = keyIdsOf.all(p.producer).map((r) => r.key_id);
      // Counted once, with every key id it needs (the count is the producer's failed ones, not per key).
      addKey(p.producer, ids[0] ?? '?', p.key);
      for (const id of ids.slice(1)) addKey(p.producer, id, 0);
    }
    if (p.blocked > 0) {
      const b = firstBlocked.get(p.producer)!;
      out.push({ producer: p.producer, kind: 'blocked', count: p.blocked, by: b.blocked_by, reason: b.blocked_reason ?? '' });
    }
    if (p.deferred > 0) out.push({ producer: p.producer, kind: 'deferred', count: p.deferred, since: p.since, reason: p.reason ?? '' });
  }
  for (const [producer, k] of key) out.push({ producer, kind: 'key', count: k.count, keyIds: [...k.keyIds].sort() });
  for (const [producer, v] of schema) out.push({ producer, kind: 'schema', count: v.count, schemaVersion: v.schemaVersion, here: SCHEMA_VERSION });
  return out.sort((a, b) => a.producer.localeCompare(b.producer) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
}

/** The key set in use, or null when none is installed or it cannot be read (then every key is missing here). */
function loadedKeys(store: Store): KeySet | null {
  if (!store.hasKeys()) return null;
  try {
    return store.requireKeys();
  } catch {
    return null;
  }
}
