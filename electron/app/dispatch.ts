/**
 * The one entry point both transports use: checks the call name against the contract, the device role, the
 * caller's permission and the input (zod), runs the handler and checks its output. Failures come back as a coded
 * error from the closed set, never as a thrown exception across the transport.
 */
import { isCallName } from '../../shared/channels.ts';
import { contract, permissionsOf, type CallReply } from '../../shared/contract.ts';
import { classifyError, EdcError, isEdcError } from '../../shared/errors.ts';
import type { Backend, Principal } from './backend.ts';

export async function dispatch(backend: Backend, who: Principal, name: unknown, rawInput: unknown, log?: (line: string) => void): Promise<CallReply> {
  try {
    if (!isCallName(name)) throw new EdcError('CALL_UNKNOWN', `"${String(name).slice(0, 60)}"`);
    const def = contract[name];
    const store = backend.store();
    if (!store && !('beforeSetup' in def)) throw new EdcError('NOT_SET_UP');
    if (store && !(def.roles as readonly string[]).includes(store.role)) throw new EdcError('ROLE_NOT_ALLOWED', `a ${store.role} device has no "${name}"`);
    if (!permissionsOf(who.role).includes(def.permission)) throw new EdcError('PERMISSION_DENIED', `${who.username} (${who.role ?? 'desktop'}) needs "${def.permission}"`);
    const parsed = def.input.safeParse(rawInput ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new EdcError('INPUT_INVALID', `${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`, { field: issue?.path.join('.') || 'input' });
    }
    const handler = backend.handlers[name] as (input: unknown, who: Principal) => Promise<unknown>;
    const value = await handler(parsed.data, who);
    const out = def.output.safeParse(value);
    if (!out.success) throw new Error(`${name} returned a value outside the contract: ${out.error.issues[0]?.path.join('.')}: ${out.error.issues[0]?.message}`);
    return { ok: true, value: out.data };
  } catch (caught) {
    const e = classifyError(caught);
    if (isEdcError(e)) return { ok: false, error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } };
    log?.(`${String(name)}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return { ok: false, error: { code: 'INTERNAL', message: new EdcError('INTERNAL', e instanceof Error ? e.message : String(e)).message } };
  }
}
