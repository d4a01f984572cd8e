/**
 * The web host: serves the renderer (dist/renderer) and the app contract over HTTP behind a session login.
 *   POST /api/app/login · POST /api/app/logout · GET /api/app/session
 *   POST /api/app/call/<name>   body = the call's input, reply = { ok, value | error }
 *   GET  /api/app/events        server-sent events: progress and state (AppEvent)
 * Every /api/app route except login answers 401 without a valid session cookie. The cookie is HttpOnly and
 * SameSite=Strict; pages carry a strict Content-Security-Policy (no inline scripts, no other origins).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loginRequestSchema, type AppEvent } from '../../shared/contract.ts';
import { EdcError } from '../../shared/errors.ts';
import type { Store } from '../core/store.ts';
import { BUNDLED } from '../core/version.ts';
import type { Backend } from '../app/backend.ts';
import { dispatch } from '../app/dispatch.ts';
import { errorResponse, parseWith, statusOf } from '../server/http.ts';
import { login, logout, sessionUser } from './accounts.ts';
import { LoginLimiter } from './login-limiter.ts';

export const SESSION_COOKIE = 'edc_session';
/** dist/renderer: from electron/web/ in the sources, or beside the bundle's folder (dist/cli, dist/electron). */
export const RENDERER_DIR = fileURLToPath(new URL(BUNDLED ? '../renderer' : '../../dist/renderer', import.meta.url));

export const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self' data:",
  "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');


/** Why a POST to /api/app is refused as not coming from this origin as JSON, or null when it may proceed. */
export function crossOriginRefusal(req: FastifyRequest): string | null {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return 'the app\'s calls are JSON (content-type application/json)';
  const host = req.headers.host;
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return 'the request\'s origin is not readable';
    }
    return originHost === host ? null : `a page of ${origin} may not call this server`;
  }
  return req.headers['sec-fetch-site'] === 'same-origin' ? null : 'the request does not say it comes from this server\'s own page (Origin)';
}

export interface WebHost {
  /** Sends an event to every open events stream. */
  broadcast(e: AppEvent): void;
}

export function registerWebHost(app: FastifyInstance, store: Store, backend: Backend, opts: { rendererDir?: string; log?: (line: string) => void; secureCookie?: boolean } = {}): WebHost {
  const rendererDir = opts.rendererDir ?? RENDERER_DIR;
  const limiter = new LoginLimiter();
  const streams = new Set<FastifyReply>();
  void app.register(cookie);

  const token = (req: FastifyRequest): string | undefined => req.cookies[SESSION_COOKIE];
  const who = (req: FastifyRequest) => sessionUser(store, token(req));
  const fail = (reply: FastifyReply, e: unknown) => {
    const { status, body } = errorResponse(e);
    return reply.code(status).send({ ok: false, error: body.error });
  };

  // Every POST of the app API: a JSON body and a request from this very origin. SameSite cookies do not separate
  // ports of one host, so a page on another port could otherwise post a bodiless form with the user's cookie.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'POST' && req.url.startsWith('/api/app/')) {
      const refusal = crossOriginRefusal(req);
      if (refusal) return reply.code(403).send({ ok: false, error: { code: 'PERMISSION_DENIED', message: new EdcError('PERMISSION_DENIED', refusal).message } });
    }
    // Source maps show the app's source: only to a logged-in user.
    if (req.method === 'GET' && req.url.split('?')[0]!.endsWith('.map')) {
      try {
        who(req);
      } catch {
        return reply.code(404).send({ ok: false, error: { code: 'SESSION_REQUIRED', message: new EdcError('SESSION_REQUIRED').message } });
      }
    }
    return undefined;
  });

  app.post('/api/app/login', async (req, reply) => {
    try {
      const body = parseWith(loginRequestSchema, req.body, 'login');
      // The slot is taken before the password check (synchronously, so concurrent guesses count too).
      const attempt = limiter.begin(req.ip, body.username);
      const s = await login(store, body.username, body.password);
      attempt.succeeded();
      void reply.setCookie(SESSION_COOKIE, s.token, { httpOnly: true, sameSite: 'strict', path: '/', secure: opts.secureCookie ?? false, maxAge: 12 * 3600 });
      return { ok: true, value: { username: s.username, role: s.role } };
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.post('/api/app/logout', async (req, reply) => {
    logout(store, token(req));
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true, value: {} };
  });

  app.get('/api/app/session', async (req, reply) => {
    try {
      return { ok: true, value: who(req) };
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.post('/api/app/call/:name', async (req, reply) => {
    let user;
    try {
      user = who(req);
    } catch (e) {
      return fail(reply, e);
    }
    const result = await dispatch(backend, user, (req.params as { name: string }).name, req.body, opts.log);
    // A coded refusal without a fixed status is a request understood but not doable here: 422.
    if (!result.ok) return reply.code(statusOf(result.error.code) ?? 422).send(result);
    return result;
  });

  app.get('/api/app/events', async (req, reply) => {
    try {
      who(req);
    } catch (e) {
      return fail(reply, e);
    }
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    reply.raw.write(': connected\n\n');
    streams.add(reply);
    const ping = setInterval(() => reply.raw.write(': ping\n\n'), 20_000);
    req.raw.on('close', () => {
      clearInterval(ping);
      streams.delete(reply);
    });
    return reply;
  });
  // Open event streams would keep close() waiting for ever: end them first.
  app.addHook('preClose', async () => {
    for (const r of streams) r.raw.end();
    streams.clear();
  });

  // The pages. Without a built renderer the API still works and / says how to build it.
  app.addHook('onSend', async (req, reply, payload) => {
    // No API answer is cached or content-sniffed (device API and app API alike).
    if (req.url.startsWith('/api/')) void reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
    if (!req.url.startsWith('/api/')) {
      void reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
    }
    return payload;
  });
  const index = path.join(rendererDir, 'index.html');
  if (existsSync(index)) {
    void app.register(fastifyStatic, { root: rendererDir, prefix: '/', index: false, wildcard: false });
  }
  app.get('/', async (_req, reply) => {
    if (!existsSync(index)) return reply.code(503).type('text/plain').send('The web UI is not built. Run `npm run build` (vite) and restart the server.');
    return reply.type('text/html').send(readFileSync(index));
  });

  return {
    broadcast(e) {
      const line = `data: ${JSON.stringify(e)}\n\n`;
      for (const r of streams) r.raw.write(line);
    },
  };
}
