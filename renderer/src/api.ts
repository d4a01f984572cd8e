/**
 * The renderer's one way to the backend: `ApiClient` from the contract. In Electron it goes through the preload's
 * `window.edc` (IPC); in a browser over HTTP to the web host, with the session cookie. Replies are checked
 * against the contract here too, so a screen only ever sees typed values or an `ApiError` with a code.
 */
import type { CallName, DesktopBridge } from '../../shared/channels.ts';
import { appEventSchema, callFailureSchema, contract, type ApiClient, type AppEvent, type CallInput, type CallOutput } from '../../shared/contract.ts';
import { ERROR_CODES, type ErrorCode } from '../../shared/errors.ts';
import { plainMessage, type Problem } from '../../shared/messages.ts';
import { t } from './i18n.tsx';

export class ApiError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly field?: string) {
    super(message);
    this.name = 'ApiError';
  }
}

declare global {
  interface Window {
    edc?: DesktopBridge;
  }
}

function unwrap<K extends CallName>(name: K, reply: unknown): CallOutput<K> {
  const failure = callFailureSchema.safeParse(reply);
  if (failure.success) throw new ApiError(failure.data.error.code, failure.data.error.message, failure.data.error.field);
  const ok = reply as { ok?: unknown; value?: unknown } | null;
  if (!ok || ok.ok !== true) throw new ApiError('INTERNAL', 'The app sent an unreadable answer. Reload the page.');
  const parsed = contract[name].output.safeParse(ok.value);
  if (!parsed.success) throw new ApiError('INTERNAL', `The answer to ${name} does not match this page's version. Reload the page.`);
  return parsed.data as CallOutput<K>;
}

function desktopClient(bridge: DesktopBridge): ApiClient {
  return {
    async call(name, input) {
      return unwrap(name, await bridge.invoke(name, input));
    },
    onEvent(listener) {
      return bridge.onEvent((raw) => {
        const e = appEventSchema.safeParse(raw);
        if (e.success) listener(e.data);
      });
    },
  };
}

export interface WebSession {
  username: string;
  role: string;
}

async function post(url: string, body: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError('SERVER_UNREACHABLE', ERROR_CODES.SERVER_UNREACHABLE);
  }
  try {
    return await res.json();
  } catch {
    throw new ApiError('INTERNAL', `The server answered ${res.status} without a readable body.`);
  }
}

export function webClient(onSessionLost: () => void): ApiClient & {
  session(): Promise<WebSession | null>;
  login(username: string, password: string): Promise<WebSession>;
  logout(): Promise<void>;
} {
  const listeners = new Set<(e: AppEvent) => void>();
  let source: EventSource | null = null;
  const connect = () => {
    if (source || listeners.size === 0) return;
    source = new EventSource('/api/app/events');
    source.onmessage = (m) => {
      try {
        const e = appEventSchema.safeParse(JSON.parse(String(m.data)));
        if (e.success) for (const l of listeners) l(e.data);
      } catch {
        // a malformed event is dropped; the screens poll as well
      }
    };
  };
  return {
    async call<K extends CallName>(name: K, input: CallInput<K>) {
      try {
        return unwrap(name, await post(`/api/app/call/${name}`, input));
      } catch (e) {
        if (e instanceof ApiError && e.code === 'SESSION_REQUIRED') onSessionLost();
        throw e;
      }
    },
    onEvent(listener) {
      listeners.add(listener);
      connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          source?.close();
          source = null;
        }
      };
    },
    async session() {
      const res = await fetch('/api/app/session', { credentials: 'same-origin' }).catch(() => null);
      if (!res) return null;
      if (!res.ok) {
        // Read the refusal to its end: an unread no-store body keeps the request open in the browser.
        await res.text().catch(() => '');
        return null;
      }
      const body = (await res.json()) as { value?: WebSession };
      return body.value ?? null;
    },
    async login(username, password) {
      const r = (await post('/api/app/login', { username, password })) as { ok: boolean; value?: WebSession; error?: { code: ErrorCode; message: string } };
      if (!r.ok || !r.value) throw new ApiError(r.error?.code ?? 'INTERNAL', r.error?.message ?? 'Login failed.');
      source?.close();
      source = null;
      connect();
      return r.value;
    },
    async logout() {
      await post('/api/app/logout', {});
      source?.close();
      source = null;
    },
  };
}

export const desktopBridge = (): DesktopBridge | undefined => window.edc;
export { desktopClient };

/** Any failure as a problem from the closed set (anything that is not an ApiError is INTERNAL). */
export function toProblem(e: unknown): Problem {
  if (e instanceof ApiError) return { code: e.code, message: e.message, field: e.field };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** The plain sentence for a failure outside a screen's own calls (start-up, login), in the current language. */
export function describeError(e: unknown): string {
  return t(plainMessage(null, toProblem(e)).key);
}
