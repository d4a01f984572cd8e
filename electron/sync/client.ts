/**
 * The HTTP client side (axios): JSON bodies gzip-compressed, answers validated, errors classified as the closed set.
 * Network failures and 5xx are retried with backoff (the operations are idempotent); 4xx are not.
 */
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { z } from 'zod';
import { errorBodySchema } from '../../shared/api.ts';
import { EdcError, reportedError } from '../../shared/errors.ts';

const gzipAsync = promisify(gzip);

export interface ClientOptions {
  baseURL: string;
  token?: string;
  /** Sent with every request (e.g. the device key header). */
  headers?: Record<string, string>;
  /** Attempts for network errors and 5xx (default 5). */
  attempts?: number;
  timeoutMs?: number;
}

export class HttpClient {
  private readonly http: AxiosInstance;
  private readonly attempts: number;

  constructor(opts: ClientOptions) {
    this.http = axios.create({
      baseURL: opts.baseURL,
      timeout: opts.timeoutMs ?? 60_000,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      maxRedirects: 0,
      validateStatus: () => true,
      decompress: true,
      maxContentLength: 64 * 1024 * 1024,
    });
    this.attempts = opts.attempts ?? 5;
  }

  async post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<{ data: T; bytes: number }> {
    const gz = await gzipAsync(JSON.stringify(body), { level: 1 }); // libuv thread pool: off the event loop
    const data = await this.request('post', path, schema, gz, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    return { data: data as T, bytes: gz.length };
  }

  /** post() to an endpoint older servers do not have: null when the server answers 404. */
  async postIfSupported<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T | null> {
    const gz = await gzipAsync(JSON.stringify(body), { level: 1 });
    return this.request('post', path, schema, gz, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, true);
  }

  async get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    return this.request('get', path, schema) as Promise<T>;
  }

  private async request<T>(method: 'get' | 'post', path: string, schema: z.ZodType<T>, body?: Buffer, headers?: Record<string, string>, optional = false): Promise<T | null> {
    let lastError: EdcError | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** (attempt - 2))));
      let res;
      try {
        res = await this.http.request({ method, url: path, data: body, headers });
      } catch (e) {
        lastError = new EdcError('SERVER_UNREACHABLE', isAxiosError(e) ? `${this.http.defaults.baseURL}: ${e.code ?? e.message}` : String(e));
        continue;
      }
      if (res.status >= 500) {
        const said = errorBodySchema.safeParse(res.data);
        lastError = new EdcError('SERVER_REJECTED', `${path}: HTTP ${res.status}${said.success ? `, the server says: ${said.data.error.message}` : ''}`);
        continue;
      }
      if (res.status === 404 && optional) return null;
      if (res.status >= 400) {
        const err = errorBodySchema.safeParse(res.data);
        if (err.success) {
          throw reportedError(err.data.error.code, err.data.error.message); // what the server said, as it said it
        }
        throw new EdcError('SERVER_REJECTED', `${path}: HTTP ${res.status}`);
      }
      const parsed = schema.safeParse(res.data);
      if (!parsed.success) throw new EdcError('SERVER_REJECTED', `${path}: unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'})`);
      return parsed.data;
    }
    throw lastError ?? new EdcError('SERVER_UNREACHABLE');
  }
}
