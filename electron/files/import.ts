/**
 * `import [--dir D]` on site/central: every batch whose manifest has arrived is checked (manifest schema, file
 * size, sha256, each line an envelope, keys of this study, a known producer), then ingested idempotently,
 * consumed, archived, recorded in file_import, and acknowledged with a receipt in `receipts/<batchId>.json`.
 * Each envelope is checked against its producer like on every channel (core/trust.ts): on a site, a producer that
 * is not paired with it is refused, nothing of it stored, and the batch quarantined.
 * Batches are taken per producer in batch order: a missing number holds that producer's later batches (a gap,
 * reported) until it arrives. What fails a check goes to quarantine with a reason; other files go on.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Progress } from '../../shared/api.ts';
import { wireEnvelopeSchema, type WireEnvelope } from '../../shared/envelope.ts';
import { EdcError } from '../../shared/errors.ts';
import { BATCH_SUFFIX, MANIFEST_SUFFIX, manifestSchema, type Manifest, type Receipt } from '../../shared/files.ts';
import type { BatchGap, Gap, UnmatchedFile } from '../../shared/status.ts';
import { BATCH_GAPS_STATE, batchGaps, UNMATCHED_STATE } from '../core/waits.ts';
import { DEVICE_LIST_DOMAIN } from '../core/device-list.ts';
import { documentSignatureValid } from '../core/crypto/signed-json.ts';
import { Consumer } from '../core/consumer.ts';
import { deviceNow } from '../core/clock.ts';
import { receivedSeq, recordCarried, recordReceived, recordState } from '../core/fleet.ts';
import { LAST_SYNC_KEY } from '../core/status.ts';
import type { Store } from '../core/store.ts';
import { checkDocument, MANIFEST_DOMAIN, pinPeerKey, RECEIPT_DOMAIN, signDocument } from './signing.ts';
import { resolveDir, writeAtomic } from './export.ts';
import { drain } from '../core/steps.ts';
import { jsonValues } from '../core/db/dialect.ts';

export interface ImportResult {
  imported: { fileName: string; count: number; accepted: number; duplicates: number }[];
  skipped: { fileName: string; reason: string }[];
  quarantined: { fileName: string; reason: string }[];
  /** Per producer, batch numbers missing before the next one present. */
  gaps: { producer: string; from: number; to: number }[];
}

const MAX_BATCH_FILE = 64 * 1024 * 1024;

export function importBatches(store: Store, dirOpt?: string, onProgress?: (p: Progress) => void): ImportResult {
  return drain(importSteps(store, dirOpt, onProgress));
}

/** importBatches() a bounded piece at a time: a yield after each file and each consume chunk (see core/steps.ts). */
export function* importSteps(store: Store, dirOpt?: string, onProgress?: (p: Progress) => void): Generator<unknown, ImportResult, void> {
  if (store.role !== 'site' && store.role !== 'central') throw new EdcError('ROLE_NOT_ALLOWED', `a ${store.role} device does not import files; site and central servers do`);
  // One import at a time per store (two `import` processes, or the server's "Import arrived files" beside the CLI):
  // both would read the same manifests and record the same batch twice.
  const release = importLock(store);
  try {
    return yield* importLocked(store, dirOpt, onProgress);
  } finally {
    release();
  }
}

export const IMPORT_LOCK_FILE = 'import.lock';

/**
 * Takes the store's import lock (`<data folder>/import.lock`, holding the pid), or throws BUSY while another live
 * process holds it. A lock left by a process that died is taken over.
 */
function importLock(store: Store): () => void {
  const file = path.join(store.dir, IMPORT_LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new EdcError('IO_FAILED', `cannot create ${file}`, { cause: e });
    }
    let holder = 0;
    try {
      holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      continue; // released meanwhile
    }
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
      throw new EdcError('BUSY', `another import (process ${holder}) is running on this store and imports these files; wait for it to finish`);
    }
    rmSync(file, { force: true }); // its process is gone: a kill or a crash left it
  }
  throw new EdcError('BUSY', 'another import is starting on this store; wait for it to finish');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function* importLocked(store: Store, dirOpt?: string, onProgress?: (p: Progress) => void): Generator<unknown, ImportResult, void> {
  const keys = store.requireKeys();
  const dir = dirOpt ? path.resolve(dirOpt) : resolveDir(store, store.settings.importDir);
  if (!existsSync(dir)) throw new EdcError('IO_FAILED', `${dir} does not exist`);
  const archive = resolveDir(store, store.settings.localArchiveDir);
  const quarantine = path.join(resolveDir(store, 'transactions'), 'quarantine');
  const receipts = path.join(dir, 'receipts');
  for (const d of [archive, quarantine, receipts]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const consumer = new Consumer(store);
  const result: ImportResult = { imported: [], skipped: [], quarantined: [], gaps: [] };
  const record = store.sql.prepare(`INSERT INTO file_import (file_name, batch_id, producer, batch_seq, status, reason, count, accepted, duplicates, sha256, at)
    VALUES (?,?,?,?,?,?,?,?,?,?,?)`);
  const move = (name: string, to: string) => {
    for (const f of [name, name + MANIFEST_SUFFIX]) if (existsSync(path.join(dir, f))) renameSync(path.join(dir, f), path.join(to, f));
  };
  const toQuarantine = (name: string, reason: string, m?: Partial<Manifest>) => {
    move(name, quarantine);
    writeFileSync(path.join(quarantine, `${name}.reason.txt`), `${reason}\n`);
    record.run(name, m?.batchId ?? null, m?.producer ?? null, m?.batchSeq ?? null, 'quarantined', reason, m?.count ?? null, null, null, m?.sha256 ?? null, new Date().toISOString());
    result.quarantined.push({ fileName: name, reason });
  };

  /** The receipt of a batch imported here, signed; `ids` null: a batch imported before (counted by its batch id). */
  const writeReceipt = (manifest: Manifest, r: { accepted: number; duplicates: number; ids: string[] | null; importedAt: string }) => {
    const counts = (r.ids
      ? store.sql.prepare(`SELECT sum(is_consumed) AS consumed, sum(is_error) AS errors FROM incoming_transaction WHERE id IN (${jsonValues(store.sql.dialect)})`).get(JSON.stringify(r.ids))
      : store.sql.prepare('SELECT sum(is_consumed) AS consumed, sum(is_error) AS errors FROM incoming_transaction WHERE batch_id = ?').get(manifest.batchId)) as { consumed: number | null; errors: number | null };
    const receipt: Receipt = {
      format: 'edc-sync-receipt', version: 1, batchId: manifest.batchId, producer: manifest.producer, batchSeq: manifest.batchSeq, receiver: store.deviceId,
      count: manifest.count, sha256: manifest.sha256, accepted: r.accepted, duplicates: r.duplicates,
      consumed: counts.consumed ?? 0, errors: counts.errors ?? 0, importedAt: r.importedAt,
      held: manifest.ranges.map((g) => ({ producer: g.producer, contiguous: receivedSeq(store, g.producer) })),
    };
    writeAtomic(path.join(receipts, `${manifest.batchId}.json`), `${JSON.stringify(signDocument(store, RECEIPT_DOMAIN, receipt), null, 2)}\n`);
  };

  // Manifests present (a data file without its manifest may still be arriving: left alone).
  const manifests: { name: string; manifest: Manifest }[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith(MANIFEST_SUFFIX) && !x.startsWith('.')).sort()) {
    const name = f.slice(0, -MANIFEST_SUFFIX.length);
    let parsed;
    try {
      parsed = manifestSchema.safeParse(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
    } catch {
      toQuarantine(name, 'the manifest is not JSON');
      continue;
    }
    if (!parsed.success) {
      toQuarantine(name, `the manifest is not an EDC Sync batch manifest (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
      continue;
    }
    if (parsed.data.fileName !== name) {
      toQuarantine(name, `the manifest describes ${parsed.data.fileName}, not this file`, parsed.data);
      continue;
    }
    manifests.push({ name, manifest: parsed.data });
  }

  const lastSeq = store.sql.prepare("SELECT coalesce(max(batch_seq), 0) AS seq FROM file_import WHERE producer = ? AND status = 'imported'");
  const importedBatch = store.sql.prepare("SELECT count, accepted, duplicates, sha256, at FROM file_import WHERE batch_id = ? AND status = 'imported' LIMIT 1");
  const byProducer = new Map<string, { name: string; manifest: Manifest }[]>();
  for (const m of manifests) byProducer.set(m.manifest.producer, [...(byProducer.get(m.manifest.producer) ?? []), m]);
  let done = 0;
  for (const [producer, list] of [...byProducer].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a.manifest.batchSeq - b.manifest.batchSeq);
    let expected = (lastSeq.get(producer) as { seq: number }).seq + 1;
    for (const { name, manifest } of list) {
      const before = importedBatch.get(manifest.batchId) as { count: number | null; accepted: number | null; duplicates: number | null; sha256: string | null; at: string } | undefined;
      if (before) {
        if (before.sha256 && before.sha256 !== manifest.sha256) {
          toQuarantine(name, `batch ${manifest.batchId} of ${producer} was imported before with other content`, manifest);
          continue;
        }
        // Sent again (its receipt was lost, or the sender re-sent it): nothing to apply, but the sender gets its
        // receipt again, or it would wait for this batch forever.
        move(name, archive);
        record.run(name, manifest.batchId, producer, manifest.batchSeq, 'skipped', 'already imported', manifest.count, null, null, manifest.sha256, new Date().toISOString());
        writeReceipt(manifest, { accepted: before.accepted ?? 0, duplicates: before.duplicates ?? 0, ids: null, importedAt: before.at });
        result.skipped.push({ fileName: name, reason: 'already imported' });
        continue;
      }
      if (manifest.batchSeq < expected) {
        toQuarantine(name, `batch number ${manifest.batchSeq} of ${producer} was already imported with another batch id`, manifest);
        continue;
      }
      if (manifest.batchSeq > expected) {
        result.gaps.push({ producer, from: expected, to: manifest.batchSeq - 1 });
        break; // this producer's later batches wait for the missing ones
      }
      if (!existsSync(path.join(dir, name))) {
        // Its data file has not arrived (copied in another order, or lost): left alone, reported when it stays so
        // (status incoming.unmatchedFiles); this producer's later batches wait for it.
        break;
      }
      // The exporter's signature, under its key on record here (pinned at its first signed file when none is).
      const signature = checkDocument(store, MANIFEST_DOMAIN, manifest, producer, 'manifest', { mayPin: true });
      if (!signature.ok) {
        toQuarantine(name, signature.reason, manifest);
        continue; // a forged batch never takes the real one's number: the real one imports when it arrives
      }
      const check = verify(dir, name, manifest, store.settings.knownProducers, (keyId) => keys.hasKey(keyId));
      if ('reason' in check) {
        toQuarantine(name, check.reason, manifest);
        continue; // a quarantined batch leaves a gap the sender fills by exporting it again
      }
      // Producers' keys from the exporter's own signed device list (a site's): each envelope must verify under its
      // producer's key; a producer the list does not name is checked as before (this device's records, if any).
      const r = consumer.ingestValid(check.envelopes, 'file', manifest.batchId, { keys: listedKeys(manifest, producer) }, { id: manifest.batchId, via: 'file', device: producer, label: name });
      if (r.rejected.length) {
        // Some envelopes refused (a producer not paired with this site, a signature that does not verify, a taken
        // sequence number): none of those is stored. The batch is quarantined with no receipt, so its exporter keeps
        // all of it pending and can send it again once the cause is fixed; the envelopes of other producers in it
        // verified on their own and are kept and applied (a batch sent again counts them as duplicates).
        toQuarantine(name, refusalReason(check.envelopes, r), manifest);
        if (r.accepted.length) yield* consumer.steps();
        continue;
      }
      // Pinned only once the batch is taken: a file whose envelopes were refused vouches for no key.
      if (signature.pinned) pinPeerKey(store, producer, signature.pinned, 'first-file');
      // The hand-over's announcement and what is now held here, per producer in the batch (O(batch)). A file's age is
      // unknown, so its clock reading is kept but no skew is measured from it.
      store.sql.transaction(() => {
        if (manifest.state?.deviceId === producer) recordState(store, manifest.state, 'file', deviceNow(store), null);
        // Skews the exporter measured live are taken as measured against a server's clock (the exporter's own skew is unknown).
        if (manifest.carried) recordCarried(store, manifest.carried.filter((c) => c.deviceId !== producer), 'file', 0);
        for (const range of manifest.ranges) recordReceived(store, range.producer, consumer.highWater(range.producer, receivedSeq(store, range.producer)), 'file');
      });
      yield* consumer.steps();
      // Recorded before the file moves: stopped between the two (a kill, the database gone), the next import finds the
      // batch recorded and its file still here, archives it and writes the receipt (the "already imported" path).
      const importedAt = new Date().toISOString();
      record.run(name, manifest.batchId, producer, manifest.batchSeq, 'imported', null, manifest.count, r.accepted.length, r.duplicates.length, manifest.sha256, importedAt);
      move(name, archive);
      writeReceipt(manifest, { accepted: r.accepted.length, duplicates: r.duplicates.length, ids: check.envelopes.map((e) => e.id), importedAt });
      result.imported.push({ fileName: name, count: manifest.count, accepted: r.accepted.length, duplicates: r.duplicates.length });
      expected++;
      done++;
      onProgress?.({ phase: 'import', done, total: manifests.length });
      yield;
    }
  }
  if (result.imported.length) store.setState(LAST_SYNC_KEY, new Date().toISOString());
  recordWaits(store, dir, result.gaps);
  return result;
}

/**
 * What import waits for, kept for `status` and the Consumed batches screen: each exporter's missing batch numbers
 * (since when they have been missing here), and the files left in the folder without their other half, once older
 * than unmatchedFileMinutes (younger ones may still be arriving).
 */
/** Why a batch with refused envelopes was quarantined: how many, whose, the first reason, what was kept, what to do. */
function refusalReason(envelopes: readonly WireEnvelope[], r: { accepted: string[]; duplicates: string[]; rejected: { id: string; reason: string }[] }): string {
  const producerOf = new Map(envelopes.map((e) => [e.id, e.producer]));
  const whose = [...new Set(r.rejected.map((x) => producerOf.get(x.id) ?? '?'))];
  const kept = r.accepted.length + r.duplicates.length;
  return `${r.rejected.length} transaction(s) of ${whose.slice(0, 5).join(', ')}${whose.length > 5 ? ` and ${whose.length - 5} more` : ''} refused: ${r.rejected[0]!.reason}`
    + (kept > 0 ? `; the other ${kept} transaction(s) in this batch verified and were kept` : '')
    + '. Nothing of it is acknowledged: once the cause is fixed, send the batch again';
}

/** The device keys a manifest's device list names, if the list is the exporter's own (its issuer and its key). */
function listedKeys(m: Manifest, exporter: string): Map<string, string> {
  const keys = new Map<string, string>();
  const list = m.deviceList;
  if (!list || list.issuer !== exporter || list.publicKey !== m.publicKey || !documentSignatureValid(DEVICE_LIST_DOMAIN, list)) return keys;
  for (const d of list.devices) if (d.publicKey) keys.set(d.deviceId, d.publicKey);
  keys.set(list.issuer, list.publicKey); // the site's own changes (its lab's reconciliations, custody records)
  return keys;
}

function recordWaits(store: Store, dir: string, gaps: readonly Gap[]): void {
  const now = new Date().toISOString();
  const before = batchGaps(store);
  const next: BatchGap[] = gaps.map((g) => ({
    exporter: g.producer, from: g.from, to: g.to,
    since: before.find((b) => b.exporter === g.producer && b.from === g.from)?.since ?? now,
  }));
  store.setStateJson(BATCH_GAPS_STATE, next);
  const names = new Set(readdirSync(dir).filter((f) => !f.startsWith('.')));
  const oldest = Date.now() - store.settings.unmatchedFileMinutes * 60_000;
  const unmatched: UnmatchedFile[] = [];
  for (const f of [...names].sort()) {
    const other = f.endsWith(MANIFEST_SUFFIX) ? f.slice(0, -MANIFEST_SUFFIX.length) : f.endsWith(BATCH_SUFFIX) ? f + MANIFEST_SUFFIX : null;
    if (!other || names.has(other)) continue;
    let mtime: number;
    try {
      mtime = lstatSync(path.join(dir, f)).mtimeMs;
    } catch {
      continue; // gone meanwhile
    }
    if (mtime > oldest) continue;
    unmatched.push({ fileName: f, kind: f.endsWith(MANIFEST_SUFFIX) ? 'manifest-without-data' : 'data-without-manifest', since: new Date(mtime).toISOString() });
  }
  store.setStateJson(UNMATCHED_STATE, unmatched.slice(0, 200));
}


function verify(dir: string, name: string, m: Manifest, known: string[], hasKey: (keyId: string) => boolean): { envelopes: WireEnvelope[] } | { reason: string } {
  const file = path.join(dir, name);
  if (!existsSync(file)) return { reason: 'the data file is missing (only its manifest arrived)' };
  const size = statSync(file).size;
  if (size !== m.bytes) return { reason: `truncated or padded: ${size} bytes, the manifest says ${m.bytes}` };
  if (size > MAX_BATCH_FILE) return { reason: `larger than ${MAX_BATCH_FILE} bytes` };
  const data = readFileSync(file);
  if (createHash('sha256').update(data).digest('hex') !== m.sha256) return { reason: 'corrupt: the sha256 does not match the manifest' };
  if (known.length > 0 && !known.includes(m.producer)) return { reason: `unknown producer ${m.producer} (not in knownProducers)` };
  let text: string;
  try {
    text = gunzipSync(data, { maxOutputLength: MAX_BATCH_FILE * 4 }).toString('utf8');
  } catch {
    return { reason: 'corrupt: not a gzip file' };
  }
  const envelopes: WireEnvelope[] = [];
  const lines = text.split('\n').filter((l) => l.length > 0);
  for (const [i, line] of lines.entries()) {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return { reason: `line ${i + 1} is not JSON` };
    }
    const e = wireEnvelopeSchema.safeParse(json);
    if (!e.success) return { reason: `line ${i + 1} is not a transaction envelope (${e.error.issues[0]?.path.join('.')}: ${e.error.issues[0]?.message})` };
    envelopes.push(e.data);
  }
  if (envelopes.length !== m.count) return { reason: `${envelopes.length} transactions, the manifest says ${m.count}` };
  const unknownKeys = [...new Set(envelopes.map((e) => e.keyId))].filter((k) => !hasKey(k));
  if (unknownKeys.length === new Set(envelopes.map((e) => e.keyId)).size) return { reason: `foreign: encrypted with keys this study does not have (${unknownKeys.slice(0, 2).join(', ')})` };
  return { envelopes };
}
