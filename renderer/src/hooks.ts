import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { CallName } from '../../shared/channels.ts';
import type { ApiClient, AppEvent, AppInfo, CallInput, CallOutput, ProgressEvent } from '../../shared/contract.ts';
import type { Problem } from '../../shared/messages.ts';
import { plainMessage } from '../../shared/messages.ts';
import { toProblem } from './api.ts';
import { useT } from './i18n.tsx';

export interface AppContextValue {
  api: ApiClient;
  info: AppInfo;
  refreshInfo(): Promise<void>;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp outside AppContext');
  return ctx;
}

/** What a screen shows for a failure: the plain sentence (current language), the field it is about, the details line. */
export interface Shown {
  error: string | null;
  details: string | null;
  field: string | null;
  /** The error code, for a screen that places a particular refusal next to what it is about. */
  code: Problem['code'] | null;
}

function useShown(call: CallName, failure: { problem: Problem; input: unknown } | null): Shown {
  const t = useT();
  if (!failure) return { error: null, details: null, field: null, code: null };
  const plain = plainMessage(call, failure.problem, failure.input);
  return { error: t(plain.key, plain.params), details: plain.details, field: plain.field, code: failure.problem.code };
}

/** Any action that succeeds clears the alerts older actions left on the page (they are about the past). */
let successes = 0;
const successListeners = new Set<(n: number) => void>();
function actionSucceeded(): void {
  successes += 1;
  for (const l of successListeners) l(successes);
}

/** Loads a call's result; `reload` fetches again. Errors are kept as the screen's plain sentence (see shared/messages.ts). */
export function useCall<K extends CallName>(name: K, input: CallInput<K>, opts: { pollMs?: number } = {}) {
  const { api } = useApp();
  const [data, setData] = useState<CallOutput<K> | null>(null);
  const [failure, setFailure] = useState<{ problem: Problem; input: unknown } | null>(null);
  const [loading, setLoading] = useState(true);
  const key = JSON.stringify(input);
  const alive = useRef(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const v = await api.call(name, JSON.parse(key) as CallInput<K>);
      if (alive.current) {
        setData(v);
        setFailure(null);
      }
    } catch (e) {
      if (alive.current) setFailure({ problem: toProblem(e), input: JSON.parse(key) as unknown });
    } finally {
      if (alive.current) setLoading(false);
    }
  }, [api, name, key]);
  useEffect(() => {
    alive.current = true;
    void reload();
    const t = opts.pollMs ? setInterval(() => void reload(), opts.pollMs) : undefined;
    return () => {
      alive.current = false;
      if (t) clearInterval(t);
    };
  }, [reload, opts.pollMs]);
  const shown = useShown(name, failure);
  return { data, ...shown, loading, reload };
}

/** The latest progress event of one long operation (null when none seen yet). */
export function useProgress(op: ProgressEvent['op']): [ProgressEvent | null, () => void] {
  const { api } = useApp();
  const [p, setP] = useState<ProgressEvent | null>(null);
  useEffect(() => api.onEvent((e: AppEvent) => {
    if (e.type === 'progress' && e.op === op) setP(e);
  }), [api, op]);
  return [p, () => setP(null)];
}

export function useEvents(listener: (e: AppEvent) => void): void {
  const { api } = useApp();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => api.onEvent((e) => ref.current(e)), [api]);
}

/**
 * Runs a call on a button press: busy flag, result, and on failure the screen's plain sentence (`error`), the field it
 * is about and a details line with the code. The alert clears when this or any other action succeeds afterwards.
 */
export function useAction<K extends CallName>(name: K) {
  const { api } = useApp();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ problem: Problem; input: unknown; at: number } | null>(null);
  const [result, setResult] = useState<CallOutput<K> | null>(null);
  const runningRef = useRef(false);
  useEffect(() => {
    const l = (n: number) => setFailure((f) => (f && f.at < n ? null : f));
    successListeners.add(l);
    return () => {
      successListeners.delete(l);
    };
  }, []);
  const run = useCallback(async (input: CallInput<K>): Promise<CallOutput<K> | null> => {
    if (runningRef.current) return null; // a second press while the first runs does nothing
    runningRef.current = true;
    setBusy(true);
    setFailure(null);
    try {
      const v = await api.call(name, input);
      setResult(v);
      actionSucceeded();
      return v;
    } catch (e) {
      setResult(null);
      setFailure({ problem: toProblem(e), input, at: successes });
      return null;
    } finally {
      runningRef.current = false;
      setBusy(false);
    }
  }, [api, name]);
  const setError = useCallback((v: null) => {
    if (v === null) setFailure(null);
  }, []);
  const shown = useShown(name, failure);
  return { run, busy, ...shown, result, setError };
}

export const percent = (p: { done: number; total: number } | null): number => (p && p.total > 0 ? Math.min(100, Math.round((p.done / p.total) * 100)) : 0);
