/**
 * The closed set of error codes. Every failure the user can see is one of these, with a message that says
 * what happened and what to do. Code is stable (scripts and the UI match on it); message is for people.
 */
export const ERROR_CODES = {
  DATA_DIR_MISSING: 'The data folder does not exist or holds no EDC Sync store. Run `edc-sync init --role R --device-id ID --data DIR` first, or check --data / EDC_SYNC_DATA.',
  DATA_DIR_EXISTS: 'The data folder already holds an EDC Sync store. Use another folder, or keep using this one.',
  SETTINGS_INVALID: 'The settings file is not valid. Fix or restore DIR/settings.json (see the README, "Settings").',
  SETTING_UNKNOWN: 'There is no such setting. `edc-sync config get` lists them.',
  SETTING_VALUE_INVALID: 'That value is not allowed for this setting.',
  ROLE_INVALID: 'Unknown role. Use one of: field, middleman, site, central.',
  DEVICE_ID_INVALID: 'The device id must be 2–32 characters: letters, digits and dashes, starting with a letter or digit.',
  ROLE_NOT_ALLOWED: 'This device\'s role cannot do that.',
  KEYS_MISSING: 'No project key set is installed, so nothing can be encrypted or decrypted. Import the study\'s keys with `edc-sync keys import FILE` (or create them once per study with `edc-sync keys create`).',
  KEYS_EXIST: 'A project key set is already installed here. Keys are created once per study; use `keys import` to add keys from another device.',
  KEYS_UNREADABLE: 'The key file cannot be read or is not a valid EDC Sync key set. Check the file, or export it again from a device that works.',
  KEYS_FOREIGN: 'That key set belongs to another study (project id differs). Import the keys of this study.',
  KEYS_CARRIER: 'This is a middleman\'s key set (`keys export --for middleman`): it carries data but cannot read participants\' details. A field laptop, the site and central need the full key set (`keys export` without --for); a middleman\'s set cannot be rotated or used to enter or change participants\' details.',
  KEYS_NO_PII_KEY: 'This key set was made before participants\' details had a key of their own, so a middleman\'s copy could still read them. Run `edc-sync keys rotate` (it adds that key), import the new key set on every device, then export for the middleman.',
  KEY_UNKNOWN: 'A transaction was encrypted with a key this device does not have. Import the newer key set from the study coordinator.',
  DEVICE_KEY_UNREADABLE: 'This device\'s signing key (keys/device-ed25519.pem in the data folder) is damaged or unreadable. Restore the data folder from a backup; if it is lost, an administrator must replace the device on the server.',
  SIGNATURE_INVALID: 'The data is not signed by the device it names (forged or altered on the way). Nothing of it was stored. Ask the sending device to send it again.',
  PRODUCER_UNKNOWN: 'The data names a device this server has not paired. Pair that device (or replace it) on the server, then send again.',
  DRIVER_REFUSED: 'This laptop does not accept that driver’s laptop: the site has revoked it, does not know it, or it is not the device it says. Ask the site’s administrator.',
  DEVICE_REVOKED: 'That device has been revoked on the server. An administrator must reinstate it (or pair its replacement) before it can sync.',
  DECRYPT_FAILED: 'A transaction could not be decrypted: it was altered or corrupted on the way. Ask the sending device to send it again.',
  PAYLOAD_INVALID: 'A transaction decrypted but its content is not a valid record for this model.',
  MODEL_UNKNOWN: 'A transaction names a model this version does not know. Update EDC Sync on this device.',
  PARENT_INVALID: 'A transaction names a parent record that is of another kind (for example a vital signs form pointing at a subject instead of a visit), so it can never apply. Set it aside, or ask the sending device to correct the record.',
  TRANSACTION_UNKNOWN: 'No received transaction has that id on this device. Check the id on the Consumed batches screen.',
  SET_ASIDE_NOT_FAILED: 'Only a change that failed, or waits for one that failed, can be set aside. Retry it instead, or leave it as it is.',
  SCHEMA_TOO_NEW: 'A transaction was produced by a newer schema than this device has. Update EDC Sync on this device.',
  RECORD_NOT_FOUND: 'The record does not exist (it may have been deleted).',
  RECORD_INVALID: 'The record is not valid.',
  NATURAL_KEY_TAKEN: 'Another record already has this identifier.',
  HAS_CHILDREN: 'This record still has dependent records (visits, CRFs, requisitions). Delete those first.',
  WRITE_OUTSIDE_PATH: 'A synced table was written outside the write path. This is a bug: every change must go through the write path.',
  STORE_NEWER: 'This store was written by a newer version of EDC Sync. Update the app on this device.',
  STORE_CORRUPT: 'The store file cannot be opened as a database. Restore it from a backup.',
  DB_UNAVAILABLE: 'The central database cannot be reached (its server is stopped or unreachable, or the name or password is wrong). Nothing was changed: check the `database` setting and that PostgreSQL is running, then try again.',
  SOURCE_STORE_INVALID: 'The folder to copy from is not an EDC Sync store.',
  INPUT_INVALID: 'The input is not valid.',
  IO_FAILED: 'A file could not be read or written. Check that the folder exists, is writable and the disk is not full.',
  NOT_PAIRED: 'This device is not paired with a server. Ask for a pairing code on the server (`edc-sync pairing-code`) and run `edc-sync pair --server URL --code CODE`.',
  PAIRING_CODE_INVALID: 'The pairing code is wrong, expired or already used. Ask for a new code on the server.',
  AUTH_REQUIRED: 'The request has no device token. Pair the device first.',
  AUTH_INVALID: 'The device token is not valid (wrong, or revoked on the server). Pair the device again.',
  FORBIDDEN_PRODUCER: 'A device may only push its own transactions (a middleman forwards others\' on their behalf).',
  RATE_LIMITED: 'Too many failed attempts from this address. Wait a minute and check the code or token.',
  BODY_TOO_LARGE: 'The request is larger than the server accepts. Send smaller batches (the app does this itself; update it).',
  TOO_MANY_TRANSACTIONS: 'The batch has more transactions than the server accepts in one request.',
  REQUEST_INVALID: 'The request is malformed.',
  SERVER_UNREACHABLE: 'The server cannot be reached. Check the network and the server address, then press Sync again; nothing is lost meanwhile.',
  SERVER_REJECTED: 'The server refused the request.',
  SFTP_NOT_CONFIGURED: 'File transfer is not set up. Choose the target with `edc-sync config set fileTarget sftp` (or `folder`) and set its settings: sftpHost, sftpUser, sftpPrivateKeyPath, sftpHostKeyFingerprint and sftpTransactionDir, or folderPath.',
  HOST_KEY_MISMATCH: 'The server\'s host key is not the one configured (sftpHostKeyFingerprint): it is unknown or has changed. Nothing was sent. Check the fingerprint with the server\'s administrator before changing the setting.',
  SFTP_AUTH_FAILED: 'The server refused the login. Check sftpUser and sftpPrivateKeyPath, and that the key is authorised on the server.',
  SFTP_FAILED: 'The transfer failed on the server side (folder missing, no permission or disk full). Nothing was archived; send again once fixed.',
  NO_ACCOUNTS: 'No web UI account exists on this device, so nobody could log in. Add one with `edc-sync user add --username U --role R` (password from stdin), then start the server again.',
  SESSION_REQUIRED: 'You are not logged in, or your session has expired. Log in again.',
  LOGIN_FAILED: 'Wrong username or password. Check both and try again; an administrator can reset the account with `edc-sync user add`.',
  PERMISSION_DENIED: 'Your account may not do this. Ask an administrator for a role that allows it.',
  USER_INVALID: 'The account is not valid: usernames are 2–64 letters, digits, dots, dashes or underscores; passwords at least 10 characters.',
  CALL_UNKNOWN: 'The app asked for something this version does not offer. Reload the page or update the app.',
  NOT_SET_UP: 'This device is not set up yet. Choose its role and device id on the Device screen (or run `edc-sync init`).',
  DISK_FULL: 'The disk is full, so nothing more could be written. Everything saved before is intact: free some space (old archives, downloads), then try again.',
  INTERNAL: 'Something unexpected failed. Nothing already stored is lost; the log file has the details for support.',
  BUSY: 'That work is already running. Wait for it to finish; its progress is shown on screen.',
  SHARE_ACTIVE: 'The laptop is already sharing. Stop the current share first, or let the driver use the code shown.',
  DRAW_TIME_IN_FUTURE: 'The corrected draw time is later than now on this device\'s clock. Enter the time the tube was drawn (24-hour clock), or check the laptop\'s clock.',
  DRAW_TIME_TOO_EARLY: 'The corrected draw time is before the day of the visit (or of the participant\'s registration). Check the date and the time.',
  RECORD_UNCHANGED: 'The corrected values are the same as those recorded, so nothing was changed.',
  VISIT_AFTER_TUBES: 'The corrected visit date is later than the day some of its blood tubes were drawn, which would leave them drawn before the visit. Correct their draw times first, or choose a date on or before the day they were drawn.',
  DRAW_TIME_UNCHANGED: 'The corrected draw time is the same as the one recorded, so nothing was changed.',
  SHARE_CLOSED: 'The laptop is not sharing any more (finished, timed out or closed). Ask the Research Assistant to press "Let the driver pull" again.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class EdcError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  /** For INPUT_INVALID: the path of the first invalid field (e.g. "firstName", "server.url"), so a screen can say which. */
  readonly field: string | undefined;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; field?: string }) {
    super(detail ? `${detail}. ${ERROR_CODES[code]}` : ERROR_CODES[code], options);
    this.name = 'EdcError';
    this.code = code;
    this.detail = detail;
    this.field = options?.field;
  }
}

/** An error another device reported with its own code and message (e.g. a server's 4xx body). */
export function reportedError(code: ErrorCode, message: string): EdcError {
  const e = new EdcError(code);
  e.message = message;
  return e;
}

export function isEdcError(e: unknown, code?: ErrorCode): e is EdcError {
  return e instanceof EdcError && (code === undefined || e.code === code);
}

/**
 * Errors from the platform (SQLite, the file system) that people can act on, as codes from the closed set:
 * a full disk, a read-only or unwritable folder. Anything else stays what it was (a bug: INTERNAL).
 */
export function classifyError(e: unknown): unknown {
  if (isEdcError(e)) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === '53100') return new EdcError('DISK_FULL', message, { cause: e });
  if (code === 'SQLITE_READONLY' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return new EdcError('IO_FAILED', message, { cause: e });
  return e;
}
