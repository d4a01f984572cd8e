/**
 * The site (or central) server: /api/v1 for devices. Every body is validated before anything touches the
 * database; a push is acknowledged only after its SQLite transaction committed (synchronous=FULL on servers).
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEVICE_KEY_HEADER, LIMITS, PUSH_SESSION_HEADER, pushSessionHeaderSchema, pairRequestSchema, preflightRequestSchema, pushRequestSchema, type Health, type PairResponse, type PreflightResponse, type PushResponse } from '../../shared/api.ts';
import { EdcError } from '../../shared/errors.ts';
import { contactRequestSchema, type ContactResponse, type Holdings } from '../../shared/fleet.ts';
import { Consumer } from '../core/consumer.ts';
import { holdingFor, receivedSeq, receiveContact, recordReceived } from '../core/fleet.ts';
import { SCHEMA_VERSION } from '../core/domain/registry.ts';
import { uuidv7 } from '../core/ids.ts';
import { pushSession } from '../core/sessions.ts';
import { LAST_SYNC_KEY } from '../core/status.ts';
import { issueDeviceList } from '../core/device-list.ts';
import type { Store } from '../core/store.ts';
import { APP_VERSION } from '../core/version.ts';
import { assertServerRole, authenticate, FailureLimiter, pairDevice, registerDeviceKey, type PairedDevice } from './auth.ts';
import { backgroundFor, type Background } from './background.ts';
import { bearer, createHttp, parseWith, sendJson } from './http.ts';
import { createBackend } from '../app/backend.ts';
import { registerWebHost, type WebHost } from '../web/web-host.ts';

export interface SiteServer {
  app: FastifyInstance;
  background: Background | null;
  url: string;
  close(): Promise<void>;
}

export function buildSiteServer(store: Store, log: (line: string) => void = () => {}): { app: FastifyInstance; background: Background } {
  assertServerRole(store);
  const app = createHttp();
  const background = backgroundFor(store, log);
  background.watchKeys();
  const limiter = new FailureLimiter(LIMITS.authFailuresPerMinute);
  const consumer = new Consumer(store);
  /** Per producer: contiguous high-water mark of what this server holds (only ever grows). */
  const marks = new Map<string, number>();

  /**
   * Bearer token → device, with failed attempts bounded per address. Runs as an onRequest hook: before a byte of
   * the body is read or inflated, so a bogus token costs the server nothing but this lookup.
   */
  const device = (req: FastifyRequest): PairedDevice => {
    if (limiter.blocked(req.ip)) throw new EdcError('RATE_LIMITED');
    let who: PairedDevice;
    try {
      who = authenticate(store, bearer(req));
    } catch (e) {
      limiter.fail(req.ip);
      throw e;
    }
    // A device paired before devices had keys registers its key on first contact (bound to this token).
    const presented = req.headers[DEVICE_KEY_HEADER];
    if (typeof presented === 'string' && presented !== who.publicKey) who = registerDeviceKey(store, who, presented);
    return who;
  };
  const authed = new WeakMap<FastifyRequest, PairedDevice>();

  app.get('/api/v1/health', async () => ({ status: 'ok', role: store.role, deviceId: store.deviceId, version: APP_VERSION }) satisfies Health);

  app.post('/api/v1/pair', {
    bodyLimit: LIMITS.smallBodyBytes,
    onRequest: async (req) => { if (limiter.blocked(req.ip)) throw new EdcError('RATE_LIMITED'); },
  }, async (req) => {
    const body = parseWith(pairRequestSchema, req.body, 'pair request');
    try {
      const token = pairDevice(store, body.code, body.deviceId, body.role, body.publicKey);
      return { token, serverDeviceId: store.deviceId, serverPublicKey: store.signingKey.publicKey } satisfies PairResponse;
    } catch (e) {
      limiter.fail(req.ip);
      throw e;
    }
  });

  // Before a push (and whenever a device has nothing to send): the device's state in, what is held where out.
  app.post('/api/v1/contact', {
    // A middleman's contact carries up to 500 laptops' states (~300 bytes each).
    bodyLimit: LIMITS.contactBodyBytes,
    onRequest: async (req) => { authed.set(req, device(req)); },
  }, async (req, reply) => {
    const who = authed.get(req)!;
    const body = parseWith(contactRequestSchema, req.body, 'contact');
    // The signed device list rides on every contact: drivers carry it to the laptops they visit.
    const answer = { ...receiveContact(store, who, body), deviceList: issueDeviceList(store) };
    store.sql.prepare('UPDATE device SET last_seen_at = ? WHERE device_id = ?').run(new Date().toISOString(), who.deviceId);
    return sendJson(req, reply, answer satisfies ContactResponse);
  });

  app.post('/api/v1/push', {
    bodyLimit: LIMITS.maxBodyBytes,
    onRequest: async (req) => { authed.set(req, device(req)); },
  }, async (req, reply) => {
    const who = authed.get(req)!;
    const raw = req.body as { transactions?: unknown } | null;
    if (raw && Array.isArray(raw.transactions) && raw.transactions.length > LIMITS.maxBatchCount) {
      throw new EdcError('TOO_MANY_TRANSACTIONS', `${raw.transactions.length} in one request; at most ${LIMITS.maxBatchCount}`);
    }
    const body = parseWith(pushRequestSchema, raw, 'push');
    const clientSession = parseWith(pushSessionHeaderSchema, req.headers[PUSH_SESSION_HEADER], 'push session header') ?? null;
    if (who.role !== 'middleman') {
      const foreign = body.transactions.find((t) => t.producer !== who.deviceId);
      if (foreign) throw new EdcError('FORBIDDEN_PRODUCER', `device ${who.deviceId} sent a transaction of ${foreign.producer}`);
    }
    const highWater: Record<string, number> = {};
    const holdings: Holdings = {};
    // One SQLite transaction (one commit): the batch, then per producer in it (O(batch)) the contiguous mark walked on
    // from the last one and the producer's row in fleet_device.
    const result = store.sql.transaction(() => {
      // Each request is one batch, within the push session the device named (or that its timing implies; see
      // core/sessions.ts). Every producer must be paired here and every envelope signed by it (core/trust.ts),
      // whoever carries it: a refused one stores nothing and names no producer.
      const via = who.role === 'middleman' ? 'middleman' : 'rest';
      const r = consumer.ingestValid(body.transactions, via, uuidv7(), { requireKnownProducer: true }, pushSession(store, via, who.deviceId, clientSession));
      const refused = new Set(r.rejected.map((x) => x.id));
      for (const p of new Set(body.transactions.filter((t) => !refused.has(t.id)).map((t) => t.producer))) {
        highWater[p] = consumer.highWater(p, marks.get(p) ?? receivedSeq(store, p));
        recordReceived(store, p, highWater[p], who.role === 'middleman' && p !== who.deviceId ? 'middleman' : 'push');
        holdings[p] = holdingFor(store, p);
      }
      return r;
    });
    for (const [p, hw] of Object.entries(highWater)) marks.set(p, hw);
    const now = new Date().toISOString();
    store.sql.prepare('UPDATE device SET last_seen_at = ? WHERE device_id = ?').run(now, who.deviceId);
    store.setState(LAST_SYNC_KEY, now);
    background.kick();
    const resend = Object.keys(highWater).flatMap((p) => consumer.resendWanted(p, 1000)).slice(0, 1000);
    return sendJson(req, reply, { ...result, highWater, holdings, resend } satisfies PushResponse);
  });

  app.post('/api/v1/preflight', async (req, reply) => {
    const who = device(req);
    const body = parseWith(preflightRequestSchema, req.body, 'pre-flight');
    if (who.role !== 'middleman') {
      const foreign = body.producers.find((p) => p !== who.deviceId);
      if (foreign) throw new EdcError('FORBIDDEN_PRODUCER', `device ${who.deviceId} asked about ${foreign}`);
    }
    const highWater: Record<string, number> = {};
    for (const p of new Set(body.producers)) {
      highWater[p] = consumer.highWater(p, marks.get(p));
      marks.set(p, highWater[p]);
    }
    const keys = store.hasKeys() ? store.requireKeys().file.keys.map((k) => k.keyId) : [];
    const resend = Object.keys(highWater).flatMap((p) => consumer.resendWanted(p, 1000)).slice(0, 1000);
    return sendJson(req, reply, { deviceId: store.deviceId, schemaVersion: SCHEMA_VERSION, keyIds: keys, highWater, resend } satisfies PreflightResponse);
  });

  return { app, background };
}

/**
 * `edc-sync server`: on a site or central server the device API (/api/v1) plus the web UI; on a field or middleman
 * device the web UI alone (the desktop app's pages in a browser, behind the same login).
 */
export async function startSiteServer(store: Store, host: string, port: number, log: (line: string) => void = () => {}, opts: { rendererDir?: string; secureCookie?: boolean } = {}): Promise<SiteServer> {
  const serverRole = store.role === 'site' || store.role === 'central';
  // A field or middleman device serves nothing but the UI: without an account nobody could use it.
  if (!serverRole && !store.sql.prepare('SELECT 1 FROM web_user LIMIT 1').get()) throw new EdcError('NO_ACCOUNTS', `${store.role} device ${store.deviceId}`);
  const { app, background } = serverRole ? buildSiteServer(store, log) : { app: createHttp(), background: null };
  let web: WebHost | null = null;
  const backend = createBackend({
    dataDir: store.dir, host: 'web', store, emit: (e) => web?.broadcast(e),
    ...(background ? { consumerError: () => background.lastError } : {}),
  });
  web = registerWebHost(app, store, backend, { log, ...opts });
  if (background) background.onDrained = () => web?.broadcast({ type: 'changed', what: 'batches' });
  await app.listen({ host, port });
  const addr = app.server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  background?.kick(); // anything received before a restart
  return {
    app, background, url,
    close: async () => {
      await backend.close();
      await app.close();
      await background?.stop();
    },
  };
}
