/**
 * `send`: SFTP to remoteServerHost (ssh2-sftp-client). The host key must match hostKeyFingerprint (SHA256:…, as
 * `ssh-keygen -lf` prints it), else nothing is sent. First the receiver's new receipts are fetched and applied
 * (delivery is acknowledged on import, not on export). Then each written batch, in batch order: data file, then
 * manifest, each uploaded under a temporary name, its size checked, and renamed into remoteTransactionDir; only
 * then the local files move to localArchiveDir. Any failure leaves the batch where it was for the next send.
 * Media files go to remoteMediaDir named by content hash; hidden and temporary files are skipped, none twice.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import Client from 'ssh2-sftp-client';
import type { Progress } from '../../shared/api.ts';
import { EdcError, isEdcError } from '../../shared/errors.ts';
import { MANIFEST_SUFFIX, receiptSchema, type Receipt } from '../../shared/files.ts';
import type { Store } from '../core/store.ts';
import { resolveDir } from './export.ts';
import { applyReceipts, type ReceiptResult } from './receipts.ts';

export interface SendResult {
  receipts: ReceiptResult;
  sent: { fileName: string; batchSeq: number; count: number }[];
  media: { sent: number; skipped: number };
}

export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function send(store: Store, opts: { onProgress?: (p: Progress) => void } = {}): Promise<SendResult> {
  const s = store.settings;
  const missing = (['remoteServerHost', 'remoteUser', 'privateKeyPath', 'hostKeyFingerprint', 'remoteTransactionDir'] as const).filter((k) => !s[k]);
  if (missing.length) throw new EdcError('SFTP_NOT_CONFIGURED', `missing: ${missing.join(', ')}`);
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(path.resolve(store.dir, s.privateKeyPath));
  } catch (cause) {
    throw new EdcError('SFTP_NOT_CONFIGURED', `cannot read privateKeyPath ${s.privateKeyPath}`, { cause });
  }
  const localDir = resolveDir(store, s.localTransactionDir);
  const archive = resolveDir(store, s.localArchiveDir);
  try {
    mkdirSync(archive, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new EdcError('IO_FAILED', `cannot create the archive folder ${archive}`, { cause });
  }
  const remoteDir = s.remoteTransactionDir.replace(/\/+$/, '');
  const sftp = new Client('edc-sync');
  let seenKey: string | null = null;
  try {
    await sftp.connect({
      host: s.remoteServerHost, port: s.remotePort, username: s.remoteUser, privateKey, readyTimeout: 15_000, retries: 0,
      hostVerifier: (key: Buffer) => {
        seenKey = fingerprintOf(key);
        return seenKey === s.hostKeyFingerprint.trim();
      },
    } as Client.ConnectOptions);
  } catch (e) {
    throw classify(e, seenKey, s.hostKeyFingerprint, `${s.remoteServerHost}:${s.remotePort}`);
  }
  const result: SendResult = { receipts: { acknowledged: [], ignored: 0, refused: [] }, sent: [], media: { sent: 0, skipped: 0 } };
  try {
    // 1. Receipts of what the receiver imported since last time.
    const waiting = new Set((store.sql.prepare("SELECT batch_id FROM file_batch WHERE status IN ('written', 'sent')").all() as { batch_id: string }[]).map((r) => r.batch_id));
    const receipts: Receipt[] = [];
    if (waiting.size && (await sftp.exists(`${remoteDir}/receipts`)) === 'd') {
      for (const f of await sftp.list(`${remoteDir}/receipts`)) {
        const batchId = f.name.replace(/\.json$/, '');
        if (!waiting.has(batchId)) continue;
        const parsed = receiptSchema.safeParse(JSON.parse(String(await sftp.get(`${remoteDir}/receipts/${f.name}`))));
        if (parsed.success) receipts.push(parsed.data);
      }
    }
    result.receipts = applyReceipts(store, receipts, { via: 'sftp' });

    // 2. Written batches, in order.
    const batches = store.sql.prepare("SELECT batch_id, batch_seq, file_name, count, bytes FROM file_batch WHERE status = 'written' ORDER BY batch_seq").all() as { batch_id: string; batch_seq: number; file_name: string; count: number; bytes: number }[];
    let done = 0;
    const total = batches.reduce((n, b) => n + b.count, 0);
    for (const b of batches) {
      for (const name of [b.file_name, b.file_name + MANIFEST_SUFFIX]) {
        const local = path.join(localDir, name);
        const final = `${remoteDir}/${name}`;
        if (!existsSync(local)) {
          if (existsSync(path.join(archive, name)) || (await sftp.exists(final))) continue; // moved on an earlier, interrupted send
          throw new EdcError('IO_FAILED', `${local} is missing; run export again`);
        }
        const size = statSync(local).size;
        const remoteStat = (await sftp.exists(final)) ? await sftp.stat(final) : null;
        if (!remoteStat || remoteStat.size !== size) {
          const tmp = `${remoteDir}/.${name}.part`;
          await sftp.fastPut(local, tmp);
          const st = await sftp.stat(tmp);
          if (st.size !== size) throw new EdcError('SFTP_FAILED', `${name}: uploaded ${st.size} bytes of ${size}`);
          if (remoteStat) await sftp.delete(final);
          await sftp.rename(tmp, final);
        }
      }
      for (const name of [b.file_name, b.file_name + MANIFEST_SUFFIX]) {
        if (existsSync(path.join(localDir, name))) renameSync(path.join(localDir, name), path.join(archive, name));
      }
      store.sql.prepare("UPDATE file_batch SET status = 'sent', sent_at = ? WHERE batch_id = ?").run(new Date().toISOString(), b.batch_id);
      result.sent.push({ fileName: b.file_name, batchSeq: b.batch_seq, count: b.count });
      done += b.count;
      opts.onProgress?.({ phase: 'send', done, total });
    }

    // 3. Media files by content hash.
    const mediaDir = resolveDir(store, s.localMediaDir);
    if (s.remoteMediaDir && existsSync(mediaDir)) {
      const remoteMedia = s.remoteMediaDir.replace(/\/+$/, '');
      for (const f of readdirSync(mediaDir, { withFileTypes: true })) {
        if (!f.isFile() || f.name.startsWith('.') || /(\.tmp|\.part|~)$/.test(f.name)) continue;
        const local = path.join(mediaDir, f.name);
        const hash = await sha256File(local);
        const key = `media:${hash}`;
        const remoteName = `${hash}${path.extname(f.name).toLowerCase()}`;
        if (store.getState(key)) {
          result.media.skipped++;
          continue;
        }
        if (!(await sftp.exists(`${remoteMedia}/${remoteName}`))) {
          await sftp.fastPut(local, `${remoteMedia}/.${remoteName}.part`);
          await sftp.rename(`${remoteMedia}/.${remoteName}.part`, `${remoteMedia}/${remoteName}`);
        }
        store.setState(key, JSON.stringify({ file: f.name, sentAt: new Date().toISOString() }));
        result.media.sent++;
      }
    }
    return result;
  } catch (e) {
    throw isEdcError(e) ? e : new EdcError('SFTP_FAILED', (e as Error).message, { cause: e });
  } finally {
    await sftp.end().catch(() => undefined);
  }
}

function classify(e: unknown, seenKey: string | null, expected: string, where: string): EdcError {
  const msg = (e as Error).message ?? String(e);
  if (seenKey && seenKey !== expected.trim()) return new EdcError('HOST_KEY_MISMATCH', `${where} presented ${seenKey}`);
  if (/authentication/i.test(msg)) return new EdcError('SFTP_AUTH_FAILED', where);
  if (/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|timed out/i.test(msg)) return new EdcError('SERVER_UNREACHABLE', `${where}: ${msg}`);
  return new EdcError('SFTP_FAILED', `${where}: ${msg}`);
}
