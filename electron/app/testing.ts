/**
 * Tests only: the app's calls as one principal would make them, through dispatch (validation, permissions, roles),
 * as the renderer does. `call` resolves with the output or throws with the error's code; `fail` returns the code.
 */
import assert from 'node:assert/strict';
import type { CallName } from '../../shared/channels.ts';
import type { CallInput, CallOutput } from '../../shared/contract.ts';
import type { Backend, Principal } from './backend.ts';
import { dispatch } from './dispatch.ts';

export function callsAs(backend: Backend, who: Principal) {
  return {
    call: async <K extends CallName>(name: K, input: CallInput<K>): Promise<CallOutput<K>> => {
      const r = await dispatch(backend, who, name, input);
      if (!r.ok) throw Object.assign(new Error(`${r.error.code}: ${r.error.message}`), { code: r.error.code });
      return r.value as CallOutput<K>;
    },
    fail: async (name: string, input: unknown): Promise<string> => {
      const r = await dispatch(backend, who, name, input);
      assert.equal(r.ok, false, `${name} should fail`);
      return r.ok ? '' : r.error.code;
    },
  };
}
