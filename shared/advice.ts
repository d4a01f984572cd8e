/**
 * Who can act on a group of problems on the Consumed batches screen, as a catalogue key (the screen says it in the
 * user's words). A missing key is an administrator's: a key file opens participants' data and the lab assistant's
 * role does not decrypt, so it does not import keys either; once imported, anyone who may retry (the lab assistant
 * included) presses Retry. Conflicts are a data manager's (resolve). Whoever holds the permission reads "You can act".
 */
import type { Permission, ReasonGroup } from './contract.ts';
import type { ErrorCode } from './errors.ts';
import type { MessageKey } from './i18n/en.ts';

const BY_CODE: Partial<Record<ErrorCode, MessageKey>> = {
  DECRYPT_FAILED: 'batches.adviceResend', PAYLOAD_INVALID: 'batches.adviceResend', SIGNATURE_INVALID: 'batches.adviceResend',
  SCHEMA_TOO_NEW: 'batches.adviceUpdate', MODEL_UNKNOWN: 'batches.adviceUpdate', PARENT_INVALID: 'batches.adviceParent',
};

export function adviceFor(g: Pick<ReasonGroup, 'kind' | 'code'>, may: readonly Permission[]): MessageKey {
  if (g.kind === 'conflict') return may.includes('resolve') ? 'batches.adviceConflictYou' : 'batches.adviceConflictManager';
  if (g.kind === 'blocked') return 'batches.adviceBlocked';
  if (g.kind === 'deferred') return 'batches.adviceDeferred';
  if (g.code === 'KEY_UNKNOWN' || g.code === 'KEYS_MISSING') return may.includes('configure') ? 'batches.adviceKeyYou' : 'batches.adviceKeyAdmin';
  return (g.code && BY_CODE[g.code]) || 'batches.adviceOther';
}
