/**
 * HTTP plumbing shared by the site server and a field laptop's share endpoint: JSON bodies (optionally gzip)
 * with a cap before and after inflating, errors as {error: {code, message}} from the closed set, bearer tokens.
 */
import { promisify } from 'node:util';
import { gunzip, gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { LIMITS, type ErrorBody } from '../../shared/api.ts';
import { classifyError, EdcError, type ErrorCode, isEdcError } from '../../shared/errors.ts';

const gunzipAsync = promisify(gunzip);

const STATUS: Partial<Record<ErrorCode, number>> = {
  AUTH_REQUIRED: 401,
  AUTH_INVALID: 401,
  PAIRING_CODE_INVALID: 403,
  FORBIDDEN_PRODUCER: 403,
  SIGNATURE_INVALID: 403,
  PRODUCER_UNKNOWN: 403,
  DRIVER_REFUSED: 403,
  DEVICE_REVOKED: 403,
  ROLE_NOT_ALLOWED: 403,
  RATE_LIMITED: 429,
  BODY_TOO_LARGE: 413,
  TOO_MANY_TRANSACTIONS: 413,
  REQUEST_INVALID: 400,
  INPUT_INVALID: 400,
  RECORD_NOT_FOUND: 404,
  SHARE_CLOSED: 410,
  // 5xx: a device retries, then reports what the server said (its disk, not the device's).
  DISK_FULL: 507,
  // The web UI's calls (/api/app).
  SESSION_REQUIRED: 401,
  LOGIN_FAILED: 401,
  PERMISSION_DENIED: 403,
  CALL_UNKNOWN: 404,
  NOT_SET_UP: 409,
  BUSY: 409,
  SHARE_ACTIVE: 409,
  NATURAL_KEY_TAKEN: 409,
  INTERNAL: 500,
};

/** The HTTP status of an error code, where one is fixed (one table for the device API and the web UI). */
export function statusOf(code: ErrorCode): number | undefined {
  return STATUS[code];
}

export function createHttp(opts: { bodyLimit?: number } = {}): FastifyInstance {
  const app = Fastify({
    logger: process.env.EDC_SYNC_HTTP_LOG ? { level: process.env.EDC_SYNC_HTTP_LOG } : false,
    // Every route is small unless it says otherwise (push): an unauthenticated client cannot make us buffer much.
    bodyLimit: opts.bodyLimit ?? LIMITS.smallBodyBytes,
    // Clients keep connections alive between batches; a dead client's socket is dropped after this.
    connectionTimeout: 120_000,
    keepAliveTimeout: 10_000,
  });
  app.removeAllContentTypeParsers(); // JSON only: anything else is a 415
  // Async: gunzip runs on libuv's thread pool, so a large body does not hold the event loop while it inflates.
  // The inflated size is capped per route (its bodyLimit, at most maxInflatedBytes): small routes stay small.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, async (req: FastifyRequest, body: Buffer) => {
    let raw = body;
    const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    const routeLimit = req.routeOptions.bodyLimit ?? LIMITS.maxBodyBytes;
    const inflatedLimit = routeLimit >= LIMITS.maxBodyBytes ? LIMITS.maxInflatedBytes : routeLimit;
    if (encoding === 'gzip') {
      try {
        raw = await gunzipAsync(body, { maxOutputLength: inflatedLimit });
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new EdcError('BODY_TOO_LARGE', `more than ${inflatedLimit} bytes once inflated`);
        throw new EdcError('REQUEST_INVALID', 'the body is not valid gzip');
      }
    } else if (encoding !== 'identity') {
      throw new EdcError('REQUEST_INVALID', `content-encoding ${encoding} is not supported (use gzip)`);
    }
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      throw new EdcError('REQUEST_INVALID', 'the body is not valid JSON');
    }
  });
  app.setErrorHandler((err, _req, reply) => {
    const { status, body } = errorResponse(err);
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'REQUEST_INVALID', message: `No such endpoint: ${req.method} ${req.url.split('?')[0]}` } } satisfies ErrorBody);
  });
  return app;
}

export function errorResponse(raw: unknown): { status: number; body: ErrorBody } {
  const err = classifyError(raw);
  if (isEdcError(err)) return { status: STATUS[err.code] ?? 500, body: { error: { code: err.code, message: err.message } } };
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return { status: 413, body: { error: { code: 'BODY_TOO_LARGE', message: new EdcError('BODY_TOO_LARGE', `limit ${LIMITS.maxBodyBytes} bytes`).message } } };
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode === 415 ? 415 : 400, body: { error: { code: 'REQUEST_INVALID', message: new EdcError('REQUEST_INVALID', e.message).message } } };
  }
  return { status: 500, body: { error: { code: 'IO_FAILED', message: `The server failed: ${e.message ?? String(err)}` } } };
}

/** Validates with a zod schema; a failure is a 400 that names the field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdcError('REQUEST_INVALID', `${what}: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function bearer(req: FastifyRequest): string {
  const h = req.headers.authorization;
  if (!h) throw new EdcError('AUTH_REQUIRED');
  const m = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(h);
  if (!m) throw new EdcError('AUTH_INVALID', 'malformed Authorization header');
  return m[1]!;
}

/** JSON reply, gzip when the client accepts it and the body is large. */
export function sendJson(req: FastifyRequest, reply: FastifyReply, body: unknown): FastifyReply {
  const text = JSON.stringify(body);
  if (text.length > 8192 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    return reply.header('content-type', 'application/json').header('content-encoding', 'gzip').send(gzipSync(text, { level: 1 }));
  }
  return reply.header('content-type', 'application/json').send(text);
}
