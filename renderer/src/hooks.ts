import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { CallName } from '../../shared/channels.ts';
import type { ApiClient, AppEvent, AppInfo, CallInput, CallOutput, ProgressEvent } from '../../shared/contract.ts';
import { describeError } from './api.ts';

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

/** Loads a call's result; `reload` fetches again. Errors are kept as readable text. */
export function useCall<K extends CallName>(name: K, input: CallInput<K>, opts: { pollMs?: number } = {}) {
  const { api } = useApp();
  const [data, setData] = useState<CallOutput<K> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const key = JSON.stringify(input);
  const alive = useRef(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const v = await api.call(name, JSON.parse(key) as CallInput<K>);
      if (alive.current) {
        setData(v);
        setError(null);
      }
    } catch (e) {
      if (alive.current) setError(describeError(e));
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
  return { data, error, loading, reload };
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

/** Runs a call on a button press: busy flag, result and readable error. */
export function useAction<K extends CallName>(name: K) {
  const { api } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<CallOutput<K> | null>(null);
  const run = useCallback(async (input: CallInput<K>): Promise<CallOutput<K> | null> => {
    setBusy(true);
    setError(null);
    try {
      const v = await api.call(name, input);
      setResult(v);
      return v;
    } catch (e) {
      setError(describeError(e));
      return null;
    } finally {
      setBusy(false);
    }
  }, [api, name]);
  return { run, busy, error, result, setError };
}

export const percent = (p: { done: number; total: number } | null): number => (p && p.total > 0 ? Math.min(100, Math.round((p.done / p.total) * 100)) : 0);
