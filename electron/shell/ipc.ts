/**
 * ipcMain registration, written against an ipcMain-like object so it runs (and is tested) under plain Node.
 * One handler per contract call, nothing else. Each handler checks that the sender is the app's own page and
 * validates the argument against the contract before anything is forwarded to the backend worker.
 */
import { CALL_NAMES, callChannel, type CallName } from '../../shared/channels.ts';
import { contract, type CallReply } from '../../shared/contract.ts';
import { EdcError } from '../../shared/errors.ts';

export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame?: { url: string } | null }, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface IpcTarget {
  call(name: CallName, input: unknown): Promise<CallReply>;
  /** True for the app's own page (file URL of dist/renderer/index.html). */
  isTrustedSender(url: string | undefined): boolean;
}

const failure = (e: EdcError): CallReply => ({ ok: false, error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } });

export function registerIpc(ipcMain: IpcMainLike, target: IpcTarget): () => void {
  for (const name of CALL_NAMES) {
    ipcMain.handle(callChannel(name), async (event, ...args) => {
      if (!target.isTrustedSender(event.senderFrame?.url)) return failure(new EdcError('PERMISSION_DENIED', 'the request did not come from the app\'s page'));
      if (args.length > 1) return failure(new EdcError('INPUT_INVALID', `${name} takes one argument`));
      const parsed = contract[name].input.safeParse(args[0] ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return failure(new EdcError('INPUT_INVALID', `${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`, { field: issue?.path.join('.') || 'input' }));
      }
      return target.call(name, args[0] ?? {});
    });
  }
  return () => {
    for (const name of CALL_NAMES) ipcMain.removeHandler(callChannel(name));
  };
}
