/**
 * `import [--dir D]` on site/central: every batch whose manifest has arrived is checked (manifest schema, file
 * size, sha256, each line an envelope, keys of this study, a known producer), then ingested idempotently,
 * consumed, archived, recorded in file_import, and acknowledged with a receipt in `receipts/<batchId>.json`.
 * Each envelope is checked against its producer like on every channel (core/trust.ts): on a site, a producer that
 * is not paired with it is refused, nothing of it stored, and the batch quarantined.
 * Batches are taken per producer in batch order: a missing number holds that producer's later batches (a gap,
 * reported) until it arrives. What fails a check goes to quarantine with a reason; other files go on.
 * A batch's outcome (ingest, record, receipt content) commits in one store transaction with a note of its file steps;
 * those steps are idempotent and redone by the next import after a kill (import-faults.test.ts). Only regular files
 * are read, within IMPORT_LIMITS.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, existsSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Progress } from '../../shared/api.ts';
import { wireEnvelopeSchema, type WireEnvelope } from '../../shared/envelope.ts';
import { classifyError, EdcError, isEdcError } from '../../shared/errors.ts';
import { BATCH_SUFFIX, MANIFEST_SUFFIX, manifestSchema, type Manifest, type Receipt } from '../../shared/files.ts';
import type { BatchGap, Gap, UnmatchedFile } from '../../shared/status.ts';
import { BATCH_GAPS_STATE, batchGaps, UNMATCHED_STATE } from '../core/waits.ts';
import { DEVICE_LIST_DOMAIN } from '../core/device-list.ts';
import { documentSignatureValid } from '../core/crypto/signed-json.ts';
import { Consumer, type IngestResult } from '../core/consumer.ts';
import { deviceNow } from '../core/clock.ts';
import { receivedSeq, recordCarried, recordReceived, recordState } from '../core/fleet.ts';
import { LAST_SYNC_KEY } from '../core/status.ts';
import type { Store } from '../core/store.ts';
import { checkDocument, MANIFEST_DOMAIN, pinPeerKey, RECEIPT_DOMAIN, signDocument } from './signing.ts';
import { resolveDir, writeAtomic } from './export.ts';
import { drain } from '../core/steps.ts';
import { inJsonList } from '../core/db/dialect.ts';
import { faultPoint } from './faults.ts';
import { z } from 'zod';
import { shaped } from '../core/db/typed.ts';

const sums = z.object({ consumed: z.number().nullable(), errors: z.number().nullable() });
const seqRow = z.object({ seq: z.number() });
const importedRow = z.object({ count: z.number().nullable(), accepted: z.number().nullable(), duplicates: z.number().nullable(), sha256: z.string().nullable(), at: z.string() });

export interface ImportResult {
  imported: { fileName: string; count: number; accepted: number; duplicates: number }[];
  skipped: { fileName: string; reason: string }[];
  quarantined: { fileName: string; reason: string }[];
  /** Per producer, batch numbers missing before the next one present. */
  gaps: { producer: string; from: number; to: number }[];
}

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

/**
 * What import reads at most of one batch. A file that breaks a bound (hostile, or damaged on the way) is quarantined
 * with the reason at the first bound broken, before more of it is read: a gzip "bomb" stops inflating at
 * decompressedBytes, lines are measured and counted as they are scanned.
 */
export const IMPORT_LIMITS = {
  /** A manifest's bytes (a site's manifest carries its signed device list, a few hundred bytes a device). */
  manifestBytes: 4 * 1024 * 1024,
  /** A data file's bytes, compressed (the exporter writes batches of about BATCH_MAX_BYTES). */
  fileBytes: 64 * 1024 * 1024,
  /** A data file's bytes once decompressed. */
  decompressedBytes: 64 * 1024 * 1024,
  /** One line (one transaction envelope). */
  lineBytes: 16 * 1024 * 1024,
  /** Lines in a data file, empty ones included (the exporter writes at most BATCH_MAX_COUNT). */
  lines: 50_000,
} as const;

/**
 * The points where `EDC_FAULT_AT` (files/faults.ts) kills an import, in the order one batch passes them: inside the
 * store transaction that records the batch (before its commit), after that commit, after its consumption, after each
 * file's move (the data file, then the manifest; across file systems also after the copy is flushed and after it is
 * renamed into place, before the source is removed), after the receipt file is written.
 */
export const IMPORT_FAULT_POINTS = ['commit', 'committed', 'consumed', 'copy-synced', 'copy-placed', 'archive-data', 'archive-manifest', 'quarantine-data', 'quarantine-manifest', 'receipt-written'] as const;

/**
 * A batch whose outcome is committed in the store but whose file steps (moving its files, the reason or the receipt
 * file) are not done yet. Kept in device_state, written in the same store transaction as the outcome, removed once
 * the steps are done; the next import finishes what a killed one left. Each step is idempotent.
 */
export const IMPORT_UNFINISHED_STATE = 'import.unfinished';
const receiptBaseSchema = z.object({
  batchId: z.string(), producer: z.string(), batchSeq: z.number(), count: z.number(), sha256: z.string(),
  accepted: z.number(), duplicates: z.number(), importedAt: z.string(), producers: z.array(z.string()),
});
const unfinishedSchema = z.array(z.object({
  kind: z.enum(['imported', 'skipped', 'quarantined']),
  /** The incoming folder the files are in. */
  dir: z.string(),
  /** The data file's name (the batch's name). */
  name: z.string(),
  /** The files to move: to the archive (imported, skipped) or to quarantine. */
  files: z.array(z.string()),
  reason: z.string().optional(),
  receipt: receiptBaseSchema.optional(),
}));
type Unfinished = z.infer<typeof unfinishedSchema>[number];
type ReceiptBase = z.infer<typeof receiptBaseSchema>;

function* importLocked(store: Store, dirOpt?: string, onProgress?: (p: Progress) => void): Generator<unknown, ImportResult, void> {
  const keys = store.requireKeys();
  const dir = dirOpt ? path.resolve(dirOpt) : resolveDir(store, store.settings.importDir);
  if (!existsSync(dir)) throw new EdcError('IO_FAILED', `${dir} does not exist`);
  const archive = resolveDir(store, store.settings.localArchiveDir);
  const quarantine = path.join(resolveDir(store, 'transactions'), 'quarantine');
  for (const d of [archive, quarantine]) mkdirSync(d, { recursive: true, mode: 0o700 });
  try {
    receiptsFolder(dir);
  } catch (e) {
    throw fileError(e, `cannot create the receipts folder in ${dir}`);
  }
  const consumer = new Consumer(store);
  const result: ImportResult = { imported: [], skipped: [], quarantined: [], gaps: [] };
  const record = store.sql.prepare(`INSERT INTO file_import (file_name, batch_id, producer, batch_seq, status, reason, count, accepted, duplicates, sha256, at)
    VALUES (?,?,?,?,?,?,?,?,?,?,?)`);
  const unfinished = () => store.getStateJson(IMPORT_UNFINISHED_STATE, unfinishedSchema) ?? [];
  const same = (a: Unfinished, b: Unfinished) => a.dir === b.dir && a.name === b.name;

  /** The outcome of a batch (`work`, returning its file steps) and the note of its unfinished steps: one transaction. */
  const commit = (work: () => Unfinished): Unfinished => {
    const entry = store.sql.transaction(() => {
      const e = work();
      store.setStateJson(IMPORT_UNFINISHED_STATE, [...unfinished().filter((x) => !same(x, e)), e]);
      faultPoint('commit');
      return e;
    });
    faultPoint('committed');
    return entry;
  };

  /** The receipt of a batch imported here, signed; `ids` null: counted by its batch id (a batch imported before). */
  const writeReceipt = (inDir: string, b: ReceiptBase, ids: string[] | null) => {
    const counts = (ids
      ? shaped(store.sql, sums, `SELECT sum(is_consumed) AS consumed, sum(is_error) AS errors FROM incoming_transaction WHERE ${inJsonList(store.sql.dialect, 'id')}`).get(JSON.stringify(ids))
      : shaped(store.sql, sums, 'SELECT sum(is_consumed) AS consumed, sum(is_error) AS errors FROM incoming_transaction WHERE batch_id = ?').get(b.batchId)) ?? { consumed: 0, errors: 0 };
    const receipt: Receipt = {
      format: 'edc-sync-receipt', version: 1, batchId: b.batchId, producer: b.producer, batchSeq: b.batchSeq, receiver: store.deviceId,
      count: b.count, sha256: b.sha256, accepted: b.accepted, duplicates: b.duplicates,
      consumed: Number(counts.consumed ?? 0), errors: Number(counts.errors ?? 0), importedAt: b.importedAt,
      held: b.producers.map((p) => ({ producer: p, contiguous: receivedSeq(store, p) })),
    };
    const folder = path.join(inDir, 'receipts');
    try {
      receiptsFolder(inDir);
      writeAtomic(path.join(folder, `${b.batchId}.json`), `${JSON.stringify(signDocument(store, RECEIPT_DOMAIN, receipt), null, 2)}\n`);
    } catch (e) {
      throw fileError(e, `cannot write the receipt of ${b.batchId} in ${folder}`);
    }
  };

  /** The file steps of a committed batch, each idempotent (redone by the next import after a kill), then its note removed. */
  const finish = (e: Unfinished, ids: string[] | null) => {
    const to = e.kind === 'quarantined' ? quarantine : archive;
    for (const f of e.files) {
      if (moveInto(path.join(e.dir, f), path.join(to, f))) {
        faultPoint(`${e.kind === 'quarantined' ? 'quarantine' : 'archive'}-${f.endsWith(MANIFEST_SUFFIX) ? 'manifest' : 'data'}`);
      }
    }
    if (e.reason !== undefined) {
      try {
        writeAtomic(path.join(quarantine, `${e.name}.reason.txt`), `${e.reason}\n`);
      } catch (err) {
        throw fileError(err, `cannot write the quarantine reason of ${e.name}`);
      }
    }
    if (e.receipt) {
      writeReceipt(e.dir, e.receipt, ids);
      faultPoint('receipt-written');
    }
    store.sql.transaction(() => store.setStateJson(IMPORT_UNFINISHED_STATE, unfinished().filter((x) => !same(x, e))));
  };

  const toQuarantine = (name: string, reason: string, m?: Partial<Manifest>, files = [name, name + MANIFEST_SUFFIX]) => {
    finish(commit(() => {
      record.run(name, m?.batchId ?? null, m?.producer ?? null, m?.batchSeq ?? null, 'quarantined', reason, m?.count ?? null, null, null, m?.sha256 ?? null, new Date().toISOString());
      return { kind: 'quarantined', dir, name, files, reason };
    }), null);
    result.quarantined.push({ fileName: name, reason });
  };

  // 1. What an import killed after its commit left undone (files not moved, a receipt not written): done first.
  const left = unfinished();
  if (left.length) {
    if (left.some((e) => e.kind === 'imported')) yield* consumer.steps(); // its receipt counts what was consumed
    for (const e of left) {
      if (!existsSync(e.dir)) continue; // its stick is not mounted: finished when it is
      finish(e, null);
      const b = e.receipt;
      if (e.kind === 'imported' && b) result.imported.push({ fileName: e.name, count: b.count, accepted: b.accepted, duplicates: b.duplicates });
      else if (e.kind === 'skipped') result.skipped.push({ fileName: e.name, reason: 'already imported' });
      else if (e.kind === 'quarantined') result.quarantined.push({ fileName: e.name, reason: e.reason ?? '' });
    }
  }

  // 2. Manifests present (a data file without its manifest may still be arriving: left alone). Only regular files are
  // read: a link (to /dev/zero, or out of this folder), a pipe or a device is refused and removed, never followed.
  const manifests: { name: string; manifest: Manifest }[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).filter((d) => d.name.endsWith(MANIFEST_SUFFIX) && !d.name.startsWith('.'));
  for (const d of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const name = d.name.slice(0, -MANIFEST_SUFFIX.length);
    if (d.isDirectory()) {
      result.skipped.push({ fileName: d.name, reason: 'a folder, not a manifest file' });
      continue;
    }
    const read = readRegular(path.join(dir, d.name), 'manifest', IMPORT_LIMITS.manifestBytes);
    if ('reason' in read) {
      // A manifest that is not a regular file says nothing about the data file beside it: only it is taken away.
      toQuarantine(name, read.reason, undefined, read.notRegular ? [d.name] : undefined);
      continue;
    }
    let parsed;
    try {
      parsed = manifestSchema.safeParse(JSON.parse(read.data.toString('utf8')));
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

  const lastSeq = shaped(store.sql, seqRow, "SELECT coalesce(max(batch_seq), 0) AS seq FROM file_import WHERE producer = ? AND status = 'imported'");
  const importedBatch = shaped(store.sql, importedRow, "SELECT count, accepted, duplicates, sha256, at FROM file_import WHERE batch_id = ? AND status = 'imported' LIMIT 1");
  const byProducer = new Map<string, { name: string; manifest: Manifest }[]>();
  for (const m of manifests) byProducer.set(m.manifest.producer, [...(byProducer.get(m.manifest.producer) ?? []), m]);
  let done = 0;
  for (const [producer, list] of [...byProducer].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a.manifest.batchSeq - b.manifest.batchSeq);
    let expected = (lastSeq.get(producer)?.seq ?? 0) + 1;
    for (const { name, manifest } of list) {
      const files = [name, name + MANIFEST_SUFFIX];
      const producers = manifest.ranges.map((g) => g.producer);
      const before = importedBatch.get(manifest.batchId);
      if (before) {
        if (before.sha256 && before.sha256 !== manifest.sha256) {
          toQuarantine(name, `batch ${manifest.batchId} of ${producer} was imported before with other content`, manifest);
          continue;
        }
        // Sent again (its receipt was lost, or the sender re-sent it): nothing to apply, but the sender gets its
        // receipt again, or it would wait for this batch forever.
        finish(commit(() => {
          record.run(name, manifest.batchId, producer, manifest.batchSeq, 'skipped', 'already imported', manifest.count, null, null, manifest.sha256, new Date().toISOString());
          return {
            kind: 'skipped', dir, name, files,
            receipt: { batchId: manifest.batchId, producer, batchSeq: manifest.batchSeq, count: manifest.count, sha256: manifest.sha256, accepted: Number(before.accepted ?? 0), duplicates: Number(before.duplicates ?? 0), importedAt: before.at, producers },
          };
        }), null);
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
      if (!present(path.join(dir, name))) {
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
      // Its transactions, what the batch tells of the producers in it and its record (the receipt's content): one
      // store transaction. Killed before its commit, nothing of the batch is kept and its files are still here;
      // after, the next import finishes the file steps (files.faults: import-faults.test.ts).
      let r!: IngestResult;
      const entry = commit(() => {
        // Producers' keys from the exporter's own signed device list (a site's): each envelope must verify under its
        // producer's key; a producer the list does not name is checked as before (this device's records, if any).
        r = consumer.ingestValid(check.envelopes, 'file', manifest.batchId, { keys: listedKeys(manifest, producer) }, { id: manifest.batchId, via: 'file', device: producer, label: name });
        const now = new Date().toISOString();
        if (r.rejected.length) {
          // Some envelopes refused (a producer not paired with this site, a signature that does not verify, a taken
          // sequence number): none of those is stored. The batch is quarantined with no receipt, so its exporter keeps
          // all of it pending and can send it again once the cause is fixed; the envelopes of other producers in it
          // verified on their own and are kept and applied (a batch sent again counts them as duplicates).
          const reason = refusalReason(check.envelopes, r);
          record.run(name, manifest.batchId, producer, manifest.batchSeq, 'quarantined', reason, manifest.count, null, null, manifest.sha256, now);
          return { kind: 'quarantined', dir, name, files, reason };
        }
        // Pinned only once the batch is taken: a file whose envelopes were refused vouches for no key.
        if (signature.pinned) pinPeerKey(store, producer, signature.pinned, 'first-file');
        // The hand-over's announcement and what is now held here, per producer in the batch (O(batch)). A file's age is
        // unknown, so its clock reading is kept but no skew is measured from it.
        if (manifest.state?.deviceId === producer) recordState(store, manifest.state, 'file', deviceNow(store), null);
        // Skews the exporter measured live are taken as measured against a server's clock (the exporter's own skew is unknown).
        if (manifest.carried) recordCarried(store, manifest.carried.filter((c) => c.deviceId !== producer), 'file', 0);
        for (const range of manifest.ranges) recordReceived(store, range.producer, consumer.highWater(range.producer, receivedSeq(store, range.producer)), 'file');
        record.run(name, manifest.batchId, producer, manifest.batchSeq, 'imported', null, manifest.count, r.accepted.length, r.duplicates.length, manifest.sha256, now);
        return {
          kind: 'imported', dir, name, files,
          receipt: { batchId: manifest.batchId, producer, batchSeq: manifest.batchSeq, count: manifest.count, sha256: manifest.sha256, accepted: r.accepted.length, duplicates: r.duplicates.length, importedAt: now, producers },
        };
      });
      if (entry.kind === 'quarantined') {
        finish(entry, null);
        result.quarantined.push({ fileName: name, reason: entry.reason ?? '' });
        if (r.accepted.length) yield* consumer.steps();
        continue;
      }
      yield* consumer.steps();
      faultPoint('consumed');
      finish(entry, check.envelopes.map((e) => e.id));
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
  if (known.length > 0 && !known.includes(m.producer)) return { reason: `unknown producer ${m.producer} (not in knownProducers)` };
  if (m.count > IMPORT_LIMITS.lines) return { reason: `the manifest says ${m.count} transactions, more than the ${IMPORT_LIMITS.lines} a batch file may hold` };
  const read = readRegular(path.join(dir, name), 'data file', IMPORT_LIMITS.fileBytes, m.bytes);
  if ('reason' in read) return read;
  const data = read.data;
  if (createHash('sha256').update(data).digest('hex') !== m.sha256) return { reason: 'corrupt: the sha256 does not match the manifest' };
  let raw: Buffer;
  try {
    // Inflation stops at the bound: a small file that would decompress to gigabytes never does.
    raw = gunzipSync(data, { maxOutputLength: IMPORT_LIMITS.decompressedBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return { reason: `it decompresses to more than ${mib(IMPORT_LIMITS.decompressedBytes)}, more than a batch file may hold (damaged, or not made by EDC Sync)` };
    return { reason: 'corrupt: not a gzip file' };
  }
  // Lines measured and counted as they are scanned, each parsed on its own: nothing beyond a bound is split or parsed.
  const envelopes: WireEnvelope[] = [];
  let line = 0;
  for (let start = 0; start < raw.length;) {
    let end = raw.indexOf(0x0a, start);
    if (end < 0) end = raw.length;
    line++;
    if (line > IMPORT_LIMITS.lines) return { reason: `more than ${IMPORT_LIMITS.lines} lines, more than a batch file may hold (damaged, or not made by EDC Sync)` };
    if (end - start > IMPORT_LIMITS.lineBytes) return { reason: `line ${line} is longer than ${mib(IMPORT_LIMITS.lineBytes)}, longer than a transaction may be (damaged, or not made by EDC Sync)` };
    if (end > start) {
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8', start, end));
      } catch {
        return { reason: `line ${line} is not JSON` };
      }
      const e = wireEnvelopeSchema.safeParse(json);
      if (!e.success) return { reason: `line ${line} is not a transaction envelope (${e.error.issues[0]?.path.join('.')}: ${e.error.issues[0]?.message})` };
      envelopes.push(e.data);
      if (envelopes.length > m.count) return { reason: `more than the ${m.count} transactions the manifest says` };
    }
    start = end + 1;
  }
  if (envelopes.length !== m.count) return { reason: `${envelopes.length} transactions, the manifest says ${m.count}` };
  const unknownKeys = [...new Set(envelopes.map((e) => e.keyId))].filter((k) => !hasKey(k));
  if (unknownKeys.length === new Set(envelopes.map((e) => e.keyId)).size) return { reason: `foreign: encrypted with keys this study does not have (${unknownKeys.slice(0, 2).join(', ')})` };
  return { envelopes };
}

const mib = (n: number) => `${n / (1024 * 1024)} MiB`;
const O_NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = fsConstants.O_NONBLOCK ?? 0;

/** Whether a name is in the folder, whatever it is (a dangling link too), without following it. */
function present(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function kindOf(st: Stats, file: string): string {
  if (st.isSymbolicLink()) {
    let target = '?';
    try {
      target = readlinkSync(file);
    } catch {
      // gone meanwhile
    }
    return `a symbolic link to ${target}`;
  }
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device';
  if (st.isDirectory()) return 'a folder';
  return 'not a file';
}

/**
 * A regular file's bytes, at most `max` (and exactly `expect` when given), read without following a link and without
 * waiting on a pipe: anything else is a reason, never read. `notRegular`: the name is not a regular file at all.
 */
export function readRegular(file: string, what: string, max: number, expect?: number): { data: Buffer } | { reason: string; notRegular?: boolean } {
  const refused = (st: Stats) => ({ reason: `the ${what} is ${kindOf(st, file)}, not a regular file: refused, never read, and the name removed from the folder`, notRegular: true });
  let fd: number;
  try {
    const st = lstatSync(file);
    if (!st.isFile()) return refused(st);
    fd = openSync(file, fsConstants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { reason: `the ${what} is missing` };
    try {
      const st = lstatSync(file);
      if (!st.isFile()) return refused(st); // replaced by a link meanwhile (ELOOP)
    } catch {
      // gone
    }
    return { reason: `the ${what} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return refused(st);
    if (expect !== undefined && st.size !== expect) return { reason: `truncated or padded: ${st.size} bytes, the manifest says ${expect}` };
    if (st.size > max) return { reason: `the ${what} is ${st.size} bytes, more than the ${mib(max)} it may have` };
    // Read until the end, never past max: a file growing while it is read is caught too.
    const data = Buffer.allocUnsafe(Math.min(st.size, max) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, data, n, data.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > max) return { reason: `the ${what} is more than the ${mib(max)} it may have` };
      if (n === data.length) break;
    }
    if (expect !== undefined && n !== expect) return { reason: `truncated or padded: ${n} bytes read, the manifest says ${expect}` };
    return { data: data.subarray(0, n) };
  } catch (e) {
    return { reason: `the ${what} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  } finally {
    closeSync(fd);
  }
}

/** A file error as a code people can act on (a full disk…), else IO_FAILED naming what could not be done. */
function fileError(e: unknown, what: string): EdcError {
  const c = classifyError(e);
  if (isEdcError(c, 'DISK_FULL')) return c;
  return new EdcError('IO_FAILED', `${what}: ${(e as Error).message ?? String(e)}`, { cause: e });
}

/**
 * Moves one name of the incoming folder to `dst`, idempotently: false when it is not there (moved before). A regular
 * file is renamed, or on another file system (a USB stick) copied beside `dst`, flushed, renamed into place, and only
 * then removed at the source; redone after a kill at any point, it ends the same. A link, pipe or device is only
 * unlinked (what it names is never touched, never archived as a link); a folder is left.
 */
function moveInto(src: string, dst: string): boolean {
  let st: Stats;
  try {
    st = lstatSync(src);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fileError(e, `cannot look at ${src}`);
  }
  try {
    if (st.isDirectory()) return false;
    if (!st.isFile()) {
      unlinkSync(src);
      return true;
    }
    try {
      renameSync(src, dst);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    }
    const tmp = path.join(path.dirname(dst), `.${path.basename(dst)}.part`);
    const from = openSync(src, fsConstants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    try {
      if (!fstatSync(from).isFile()) throw new Error(`${src} is no longer a regular file`);
      const to = openSync(tmp, 'w', 0o600);
      try {
        const buf = Buffer.allocUnsafe(1024 * 1024);
        for (let got; (got = readSync(from, buf, 0, buf.length, null)) > 0;) {
          for (let off = 0; off < got;) off += writeSync(to, buf, off, got - off);
        }
        fsyncSync(to);
      } finally {
        closeSync(to);
      }
    } finally {
      closeSync(from);
    }
    faultPoint('copy-synced');
    renameSync(tmp, dst);
    syncDir(path.dirname(dst));
    faultPoint('copy-placed');
    unlinkSync(src);
    return true;
  } catch (e) {
    throw fileError(e, `cannot move ${src} to ${path.dirname(dst)}`);
  }
}

/**
 * `receipts/` of an incoming folder, a real folder: a link under that name (to a folder elsewhere: receipts would be
 * written there) or a file is removed first (only the name; never what a link points to).
 */
function receiptsFolder(inDir: string): string {
  const folder = path.join(inDir, 'receipts');
  try {
    if (!lstatSync(folder).isDirectory()) unlinkSync(folder);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  return folder;
}

/** The folder's entry of a renamed file flushed too (where the platform allows it: not on Windows). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
