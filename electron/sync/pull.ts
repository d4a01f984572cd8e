/**
 * `pull --from URL --code C` on a middleman: fetch a field laptop's transactions page by page after the last one
 * this middleman acknowledged, store them unchanged (same id, producer, producerSeq, ciphertext), acknowledge each
 * page, then apply them to the middleman's own store so the driver can reconcile specimens. A pull cut at any
 * point resumes from the last acknowledged page: pages held but not acknowledged are fetched again (duplicates).
 */
import { z } from 'zod';
import { LIMITS, shareAckResponseSchema, shareHandoverSchema, sharePageSchema, shareSessionResponseSchema, type Progress } from '../../shared/api.ts';
import { EdcError } from '../../shared/errors.ts';
import { Consumer, type ConsumeResult } from '../core/consumer.ts';
import { PULL_HANDOVER_STATE, verifiedPullHandover } from '../core/custody.ts';
import { shareSessionBytes, storedDeviceList } from '../core/device-list.ts';
import { PRODUCER_KEY_STATE } from '../core/peer-keys.ts';
import { holdingFor, receivedSeq, recordLive, recordReceived } from '../core/fleet.ts';
import { uuidv7 } from '../core/ids.ts';
import { LAST_SYNC_KEY } from '../core/status.ts';
import type { Store } from '../core/store.ts';
import { HttpClient } from './client.ts';

const okSchema = z.object({ ok: z.literal(true) });

export interface PullResult {
  producer: string;
  received: number;
  duplicates: number;
  rejected: { id: string; reason: string }[];
  consumed: ConsumeResult;
}

export async function pull(store: Store, from: string, code: string, opts: { onProgress?: (p: Progress) => void; pageSize?: number; attempts?: number } = {}): Promise<PullResult> {
  if (store.role !== 'middleman') throw new EdcError('ROLE_NOT_ALLOWED', `a ${store.role} device does not pull from laptops; middleman devices do`);
  store.requireKeys(); // the pulled requisitions are applied here: refuse before fetching anything
  let base: string;
  try {
    base = new URL(from).origin;
  } catch {
    throw new EdcError('INPUT_INVALID', `"${from}" is not a URL`);
  }
  const open = new HttpClient({ baseURL: base, attempts: opts.attempts ?? 3 });
  // Who this driver's laptop is: its key and a signature of the code; and the site's latest device list, which the
  // laptop takes (and checks this middleman against) when it is newer than its own.
  const list = storedDeviceList(store);
  const { data: session } = await open.post('/share/v1/session', {
    code, middleman: store.deviceId, publicKey: store.signingKey.publicKey, sig: store.signingKey.sign(shareSessionBytes(code, store.deviceId)),
    ...(list ? { deviceList: list } : {}),
  }, shareSessionResponseSchema);
  const client = new HttpClient({ baseURL: base, token: session.token, attempts: opts.attempts ?? 3 });
  // The laptop's device key: the first one a middleman sees for a laptop is kept, and a laptop presenting another
  // later is refused (a replaced laptop must be re-introduced by the site's device list). Every page is verified
  // under it, so nothing signed by another key, and nothing unsigned once the laptop has a key, is stored.
  const keyState = `${PRODUCER_KEY_STATE}${session.producer}`;
  // What the site said about this laptop (its signed device list, from this middleman's last contact) comes first: a
  // revoked laptop is not pulled, and its key must be the one on record there (a replaced laptop's new key counts).
  // A laptop the list does not name yet (paired after that contact) is pulled; the site checks it at the push.
  const listed = list?.devices.find((d) => d.deviceId === session.producer);
  if (listed?.revoked) throw new EdcError('DEVICE_REVOKED', `${session.producer} is revoked at site ${list!.issuer}; nothing was pulled`);
  if (listed?.publicKey) {
    if (session.publicKey !== listed.publicKey) {
      throw new EdcError('SIGNATURE_INVALID', `${session.producer} presented ${session.publicKey ? 'a device key' : 'no device key'} other than the one site ${list!.issuer} has on record; nothing was pulled`);
    }
    store.setState(keyState, listed.publicKey);
  }
  const known = store.getState(keyState);
  if (known && session.publicKey !== known) {
    throw new EdcError('SIGNATURE_INVALID', `${session.producer} presented ${session.publicKey ? 'a different device key' : 'no device key'} than on its earlier pulls; nothing was pulled`);
  }
  const laptopKey = known ?? session.publicKey;
  if (laptopKey && !known) store.setState(keyState, laptopKey);
  const trust = laptopKey ? { keys: new Map([[session.producer, laptopKey]]) } : {};
  const consumer = new Consumer(store);
  if (session.state) {
    if (session.state.deviceId !== session.producer) throw new EdcError('SERVER_REJECTED', `the laptop ${session.producer} announced itself as ${session.state.deviceId}`);
    recordLive(store, session.state, 'share');
  }
  const ackKey = `pullAcked:${session.producer}`;
  let mark = receivedSeq(store, session.producer);
  let after = Number(store.getState(ackKey) ?? '0');
  const result: PullResult = { producer: session.producer, received: 0, duplicates: 0, rejected: [], consumed: { applied: 0, ignored: 0, errors: 0, conflicts: 0, deferred: 0, blocked: 0, gaps: [] } };
  const limit = Math.min(opts.pageSize ?? LIMITS.clientBatchCount, LIMITS.maxBatchCount);
  let done = after;
  const start = after;
  const batchId = uuidv7(); // one pull, one batch on the Consumed batches screen
  for (;;) {
    const page = await client.get(`/share/v1/transactions?after=${after}&limit=${limit}`, sharePageSchema);
    if (page.transactions.length === 0) break;
    const foreign = page.transactions.find((t) => t.producer !== session.producer);
    if (foreign) throw new EdcError('SERVER_REJECTED', `the laptop sent a transaction of ${foreign.producer}, not its own`);
    const r = consumer.ingestValid(page.transactions, 'rest', batchId, trust);
    result.received += r.accepted.length;
    result.duplicates += r.duplicates.length;
    result.rejected.push(...r.rejected);
    const held = [...r.accepted, ...r.duplicates];
    if (held.length) await client.post('/share/v1/ack', { ids: held }, shareAckResponseSchema);
    after = page.transactions[page.transactions.length - 1]!.producerSeq;
    store.setState(ackKey, String(after));
    mark = consumer.highWater(session.producer, mark);
    recordReceived(store, session.producer, mark, 'share');
    done += page.transactions.length;
    opts.onProgress?.({ phase: 'pull', done, total: session.total });
    if (!page.more) break;
  }
  // Receipts travel back down: what the site (and, through it, central) holds of this laptop's transactions.
  if (after > start && laptopKey) {
    // Chain of custody: the laptop's signed statement of the tubes in what this pull took (older laptops have none).
    const statement = await client.postIfSupported('/share/v1/handover', { after: start, upTo: after }, shareHandoverSchema).catch(() => null);
    const valid = statement && verifiedPullHandover(statement, { laptop: session.producer, laptopKey, middleman: store.deviceId });
    if (valid) store.setState(`${PULL_HANDOVER_STATE}${batchId}`, JSON.stringify(valid));
  }
  const holding = holdingFor(store, session.producer);
  if (holding.site > 0 || holding.central > 0 || holding.centralExtra.length > 0) {
    await client.post('/share/v1/receipts', { holding, from: store.deviceId }, okSchema).catch(() => undefined); // an older laptop has no such endpoint
  }
  await client.post('/share/v1/done', {}, shareAckResponseSchema.partial().passthrough()).catch(() => undefined);
  store.setState(LAST_SYNC_KEY, new Date().toISOString());
  result.consumed = consumer.consume((p) => opts.onProgress?.({ phase: 'consume', ...p }));
  return result;
}
