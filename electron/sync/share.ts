/**
 * `share` on a field laptop: a short-lived endpoint on the address the RA chose, from which a middleman pulls
 * this laptop's transactions. The code shown on screen opens a session (wrong codes are counted: after 10 the
 * share closes). Pages are read-only; an acknowledgement marks transactions isConsumedMiddleman. The share
 * closes when the middleman says done, after an idle period, or when stopped.
 */
import type { AddressInfo } from 'node:net';
import { LIMITS, shareAckRequestSchema, shareHandoverRequestSchema, sharePageQuerySchema, shareSessionRequestSchema, type ShareHandover, type SharePage, type ShareSessionResponse } from '../../shared/api.ts';
import { EdcError } from '../../shared/errors.ts';
import { shareReceiptsRequestSchema } from '../../shared/fleet.ts';
import { laptopHandover } from '../core/custody.ts';
import { acceptDeviceList, middlemanRefusal } from '../core/device-list.ts';
import { ownState, recordOwnHolding } from '../core/fleet.ts';
import { outgoingTransaction } from '../core/db/schema.ts';
import { rowsOf, shaped } from '../core/db/typed.ts';
import { toWire } from '../core/envelope.ts';
import { countRow } from '../core/row-shapes.ts';
import type { Store } from '../core/store.ts';
import { codesEqual, newCode, newToken } from '../server/auth.ts';
import { bearer, createHttp, parseWith, sendJson } from '../server/http.ts';

export interface Share {
  url: string;
  code: string;
  /** Resolves when the share has closed, with why. */
  closed: Promise<'done' | 'idle' | 'stopped' | 'too-many-attempts'>;
  stop(): Promise<void>;
}

export interface ShareEvents {
  onSession?: (middleman: string) => void;
  onAck?: (p: { acknowledged: number; total: number }) => void;
  /** A middleman said what the site and central hold. */
  onReceipts?: () => void;
  /** A driver's laptop with the right code was refused: revoked, unknown to the site, or not holding its key. */
  onRefused?: (middleman: string, reason: string) => void;
}

const MAX_CODE_FAILURES = 10;

export async function startShare(store: Store, opts: { host: string; port: number; idleMs?: number } & ShareEvents): Promise<Share> {
  if (store.role !== 'field') throw new EdcError('ROLE_NOT_ALLOWED', `a ${store.role} device does not share; field laptops let a middleman pull`);
  const code = newCode();
  const sessions = new Map<string, string>(); // token → middleman device id
  let failures = 0;
  let closing = false;
  let resolveClosed!: (why: 'done' | 'idle' | 'stopped' | 'too-many-attempts') => void;
  const closed = new Promise<'done' | 'idle' | 'stopped' | 'too-many-attempts'>((r) => { resolveClosed = r; });
  const app = createHttp();
  const idleMs = opts.idleMs ?? 10 * 60_000;
  let idle: NodeJS.Timeout | undefined;
  const close = (why: 'done' | 'idle' | 'stopped' | 'too-many-attempts') => {
    if (closing) return;
    closing = true;
    clearTimeout(idle);
    setImmediate(() => { void app.close().then(() => resolveClosed(why)); });
  };
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => close('idle'), idleMs);
  };
  touch();
  const total = () => shaped(store.sql, countRow, 'SELECT count(*) AS n FROM outgoing_transaction WHERE producer = ?').get(store.deviceId)!.n;
  const pending = () => shaped(store.sql, countRow, 'SELECT count(*) AS n FROM outgoing_transaction WHERE is_consumed_middleman = 0 AND is_consumed_server = 0').get()!.n;
  const session = (token: string): string => {
    const who = sessions.get(token);
    if (!who) throw new EdcError('AUTH_INVALID');
    return who;
  };
  app.addHook('onRequest', async () => {
    if (closing) throw new EdcError('SHARE_CLOSED');
    touch();
  });

  app.post('/share/v1/session', { bodyLimit: LIMITS.smallBodyBytes }, async (req) => {
    const body = parseWith(shareSessionRequestSchema, req.body, 'session request');
    if (!codesEqual(body.code, code)) {
      failures++;
      if (failures >= MAX_CODE_FAILURES) close('too-many-attempts');
      throw new EdcError('PAIRING_CODE_INVALID', `${MAX_CODE_FAILURES - failures} attempt(s) left`);
    }
    // Offline trust: the site's newer device list, if the driver brings one, then this driver against it.
    if (body.deviceList) acceptDeviceList(store, body.deviceList);
    const refusal = middlemanRefusal(store, body.middleman, body);
    if (refusal) {
      failures++;
      if (failures >= MAX_CODE_FAILURES) close('too-many-attempts');
      opts.onRefused?.(body.middleman, refusal);
      throw new EdcError('DRIVER_REFUSED', refusal);
    }
    const token = newToken();
    sessions.set(token, body.middleman);
    opts.onSession?.(body.middleman);
    // The laptop's public key: the middleman verifies every page under it.
    return { token, producer: store.deviceId, total: total(), state: ownState(store), publicKey: store.signingKey.publicKey } satisfies ShareSessionResponse;
  });

  const page = rowsOf(store.sql, outgoingTransaction, 'SELECT * FROM outgoing_transaction WHERE producer = ? AND producer_seq > ? ORDER BY producer_seq LIMIT ?');
  app.get('/share/v1/transactions', async (req, reply) => {
    session(bearer(req));
    const q = parseWith(sharePageQuerySchema, req.query, 'page query');
    const rows = page.all(store.deviceId, q.after, q.limit + 1);
    const more = rows.length > q.limit;
    return sendJson(req, reply, { transactions: rows.slice(0, q.limit).map(toWire), more } satisfies SharePage);
  });

  const mark = store.sql.prepare(`UPDATE outgoing_transaction SET is_consumed_middleman = 1, consumed_middleman_at = ?, consumer_middleman = ?
    WHERE id = ? AND producer = ? AND is_consumed_middleman = 0`);
  const authed = new WeakMap<object, string>();
  app.post('/share/v1/ack', {
    bodyLimit: 4 * LIMITS.smallBodyBytes,
    onRequest: async (req) => { authed.set(req, session(bearer(req))); }, // before the body is read
  }, async (req) => {
    const middleman = authed.get(req)!;
    const body = parseWith(shareAckRequestSchema, req.body, 'ack');
    const at = new Date().toISOString();
    let acknowledged = 0;
    store.sql.transaction(() => { for (const id of body.ids) acknowledged += mark.run(at, middleman, id, store.deviceId).changes; });
    opts.onAck?.({ acknowledged, total: pending() });
    return { acknowledged };
  });

  // Chain of custody: the laptop states (and signs) which tubes it handed over in the transactions this pull took.
  app.post('/share/v1/handover', {
    bodyLimit: LIMITS.smallBodyBytes,
    onRequest: async (req) => { authed.set(req, session(bearer(req))); },
  }, async (req) => {
    const middleman = authed.get(req)!;
    const body = parseWith(shareHandoverRequestSchema, req.body, 'handover request');
    return { ...laptopHandover(store, body, middleman), kind: 'pull', toDevice: middleman } satisfies ShareHandover;
  });

  // The middleman hands down what the site and central hold of this laptop's transactions (only ever grows here).
  app.post('/share/v1/receipts', { onRequest: async (req) => { session(bearer(req)); } }, async (req) => {
    const body = parseWith(shareReceiptsRequestSchema, req.body, 'receipts');
    recordOwnHolding(store, body.holding);
    opts.onReceipts?.();
    return { ok: true };
  });

  app.post('/share/v1/done', { onRequest: async (req) => { session(bearer(req)); } }, async () => {
    close('done');
    return { ok: true };
  });

  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  return {
    url, code, closed,
    stop: async () => {
      close('stopped');
      await closed;
    },
  };
}
