/**
 * One mapping from what went wrong (an error code from the closed set, or the field a validation issue names) to the
 * sentence a person reads, per call, i.e. per screen action. Screens never show a code or the sender's text: those
 * go to the "details" line for support. Add an entry here when a screen can say it more precisely than errors.*.
 */
import type { CallName } from './channels.ts';
import type { ErrorCode } from './errors.ts';
import type { MessageKey } from './i18n/en.ts';

export interface Problem {
  code: ErrorCode;
  /** The sender's own text (English, may name fields, URLs, SQL): for the details line only. */
  message: string;
  /** The first invalid field, for INPUT_INVALID. */
  field?: string | undefined;
}

export interface Plain {
  key: MessageKey;
  params: Record<string, string | number>;
  /** The field the sentence is about, when there is one (the screen shows it next to that field). */
  field: string | null;
  /** "CODE · sender's text" for support. */
  details: string;
}

const SUBJECT_FIELDS: Record<string, MessageKey> = {
  firstName: 'entry.needFirstName',
  lastName: 'entry.needLastName',
  dob: 'entry.dobUnreadable',
  identityNumber: 'entry.needIdentity',
  phone: 'entry.phoneInvalid',
  gender: 'entry.needGender',
  reason: 'entry.needReason',
};

/** Sentences for invalid fields, per call. The same keys serve the forms' own checks before anything is sent. */
export const FIELD_MESSAGES: Partial<Record<CallName, Record<string, MessageKey>>> = {
  'subjects.register': SUBJECT_FIELDS,
  'consent.save': { version: 'entry.consentVersionInvalid', language: 'entry.consentLanguageInvalid', consentDatetime: 'entry.dateTimeInvalid' },
  'visits.add': { visitDatetime: 'entry.dateTimeInvalid' },
  'requisitions.create': { specimens: 'entry.tubesNone', drawnDatetime: 'entry.dateTimeInvalid' },
  'device.setup': { 'server.url': 'device.urlInvalid', 'server.code': 'device.codeInvalid', deviceId: 'errors.DEVICE_ID_INVALID', siteCode: 'device.siteCodeInvalid', role: 'errors.ROLE_INVALID' },
  'pull.run': { url: 'pull.urlInvalid', code: 'pull.codeInvalid' },
  'subjects.search': { query: 'entry.queryTooLong' },
  'specimens.timeToLab': { from: 'specimens.rangeInvalid', to: 'specimens.rangeInvalid' },
  'requisitions.correctDrawTime': { reason: 'entry.needReason', drawnDatetime: 'specimens.timeUnreadable' },
  'devices.pairingCode': { deviceId: 'devices.pairIdInvalid' },
  'records.correct': {
    ...Object.fromEntries(Object.entries(SUBJECT_FIELDS).map(([k, v]) => [`changes.${k}`, v])),
    reason: 'entry.needReason', 'changes.version': 'entry.consentVersionInvalid', 'changes.language': 'entry.consentLanguageInvalid',
    'changes.consentDatetime': 'corrections.timeRefused', 'changes.visitDatetime': 'corrections.timeRefused', 'changes.itemCount': 'corrections.tubeCountInvalid', 'changes.specimenType': 'entry.specimenNotForTest',
  },
  'records.delete': { reason: 'entry.needReason' },
};

/** Sentences for error codes, per call, where the call's context says more than errors.<CODE>. */
export const CODE_MESSAGES: Partial<Record<CallName, Partial<Record<ErrorCode, MessageKey>>>> = {
  'consent.save': { NATURAL_KEY_TAKEN: 'entry.consentAlready' },
  'visits.add': { NATURAL_KEY_TAKEN: 'entry.visitAlready' },
  'subjects.register': { NATURAL_KEY_TAKEN: 'entry.subjectAlready' },
  'records.correct': { NATURAL_KEY_TAKEN: 'entry.correctTaken' },
  'pull.run': { SERVER_UNREACHABLE: 'pull.laptopUnreachable', PAIRING_CODE_INVALID: 'pull.codeWrong', AUTH_INVALID: 'pull.codeWrong', RATE_LIMITED: 'pull.tooManyTries' },
  'device.setup': { SERVER_UNREACHABLE: 'device.serverUnreachable' },
  'settings.update': { SETTING_VALUE_INVALID: 'device.settingInvalid' },
  'conflicts.resolve': { INPUT_INVALID: 'conflicts.onlyKeep' },
  'batches.retry': { BUSY: 'batches.busy' },
  'devices.pairingCode': { INPUT_INVALID: 'devices.pairAlready', RECORD_NOT_FOUND: 'devices.pairNothingToReplace', DEVICE_ID_INVALID: 'devices.pairIdInvalid' },
};

/** The top-level text and number values of a call's input, so a sentence can name them ("Consent version 1.0 …"). */
function scalars(input: unknown): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (input && typeof input === 'object') {
    for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
      if (typeof v === 'string') out[k] = v.trim().slice(0, 80);
      else if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    }
  }
  return out;
}

/** The sentence for a failed call. `call` null: a failure outside any call (e.g. loading the page). */
export function plainMessage(call: CallName | null, problem: Problem, input?: unknown): Plain {
  const params = scalars(input);
  const details = `${problem.code} · ${problem.message}`;
  if (problem.code === 'INPUT_INVALID' && problem.field && call) {
    const key = fieldMessage(call, problem.field);
    if (key) return { key, params, field: problem.field, details };
  }
  const key = (call && CODE_MESSAGES[call]?.[problem.code]) ?? (`errors.${problem.code}` as const);
  return { key, params, field: problem.code === 'INPUT_INVALID' ? problem.field ?? null : null, details };
}

/** The sentence for an invalid field of a call (the exact path, else its first segment), or null if none is mapped. */
export function fieldMessage(call: CallName, field: string): MessageKey | null {
  const map = FIELD_MESSAGES[call];
  if (!map) return null;
  return map[field] ?? map[field.split('.')[0] ?? ''] ?? null;
}
