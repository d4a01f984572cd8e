import { z } from 'zod';
import { isTimeZone } from './local-time.ts';

export const ROLES = ['field', 'middleman', 'site', 'central'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/** Roles that apply incoming transactions to their own tables. A field laptop only produces. */
export const CONSUMING_ROLES: readonly Role[] = ['middleman', 'site', 'central'];

export const deviceIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{1,31}$/, 'letters, digits and dashes, 2–32 characters');

/** Draw-to-lab limits per panel (minutes), until the study sets its own. */
export const DEFAULT_STABILITY_MINUTES: Record<string, number> = { 'CD4': 24 * 60, 'Viral load': 6 * 60, 'Full blood count': 24 * 60, 'Chemistry': 2 * 60, 'Stored plasma': 4 * 60 };

export const FILE_TARGETS = ['sftp', 'folder'] as const;
export type FileTargetKind = (typeof FILE_TARGETS)[number];

/**
 * DIR/settings.json. Names of the local file settings are the original edc-sync's; the file target's settings are
 * named by their target (sftp*, folder*), and the original's remote* names still work (LEGACY_SETTING_NAMES).
 * Every key has a default except role and deviceId, so `config set` can validate one key at a time.
 */
export const settingsSchema = z.object({
  role: roleSchema,
  deviceId: deviceIdSchema,
  /** Prefix of subject identifiers, e.g. the site code. */
  siteCode: z.string().regex(/^[A-Z0-9]{1,8}$/, '1–8 capital letters or digits').default('S01'),
  /**
   * Site/central: keep the store's tables in this PostgreSQL database (postgres://user@host:port/db) instead of the
   * data folder's SQLite file; empty: SQLite. Set once, by `init --database` (or EDC_SYNC_DATABASE at init). Keep the
   * password out of it: PostgreSQL's own PGPASSWORD or ~/.pgpass are read.
   */
  database: z.string().max(2000).regex(/^(postgres(ql)?:\/\/\S+)?$/, 'a postgres://user@host:port/database URL, or empty for SQLite').default(''),
  /** Folder holding the project key set; relative paths are relative to the data folder. */
  keyDir: z.string().min(1).default('keys'),
  /** When false, writes change the tables and the audit history but produce no outgoing transactions. */
  allowModelSerialization: z.boolean().default(true),
  /** Name recorded as hostnameCreated / hostnameModified. Empty: the machine's hostname. */
  hostname: z.string().max(255).default(''),
  localTransactionDir: z.string().default('transactions/outgoing'),
  localArchiveDir: z.string().default('transactions/archive'),
  localMediaDir: z.string().default('media'),
  /** Site/central: the folder transaction files arrive in (the sender's remoteTransactionDir); receipts go to its receipts/. */
  importDir: z.string().default('transactions/incoming'),
  /** Site/central: exporters whose files are accepted; empty accepts any producer holding this study's keys. */
  knownProducers: z.array(deviceIdSchema).default([]),
  /** Site/central: a data file without its manifest (or a manifest without its data) older than this is reported. */
  unmatchedFileMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
  /**
   * Study: how long a tube of each panel may take from draw to the lab, in minutes (amber from 75 %, red past it).
   * `config set stabilityMinutes '{"CD4":1440,"Chemistry":120}'`.
   */
  stabilityMinutes: z.record(z.string().min(1).max(60), z.number().int().min(1).max(60 * 24 * 14)).default(DEFAULT_STABILITY_MINUTES),
  /** The study site's time zone (IANA, e.g. Africa/Gaborone) for local dates (time to lab per day); empty: this computer's. */
  timeZone: z.string().max(64).refine(isTimeZone, 'an IANA time zone such as Africa/Gaborone, or empty').default(''),
  /** Label stock: one label per page of this size (millimetres). */
  labelWidthMm: z.number().min(15).max(210).default(50),
  labelHeightMm: z.number().min(10).max(297).default(25),
  /**
   * Where `send` puts the batch files and finds the receipts: `sftp` (the central server, keys sftp*) or `folder` (a
   * USB stick or a mounted share, keys folder*). The keys of the target not chosen are kept but unused.
   */
  fileTarget: z.enum(FILE_TARGETS).default('sftp'),
  sftpHost: z.string().default(''),
  sftpPort: z.number().int().min(1).max(65535).default(22),
  sftpUser: z.string().default(''),
  /** The private key file (relative paths: to the data folder). */
  sftpPrivateKeyPath: z.string().default(''),
  /** The server's host key, SHA256:… as `ssh-keygen -lf` prints it: any other is refused before logging in. */
  sftpHostKeyFingerprint: z.string().default(''),
  /** The receiver's incoming folder (its importDir); receipts are read from its receipts/. */
  sftpTransactionDir: z.string().default(''),
  /** Empty: media files are not sent. */
  sftpMediaDir: z.string().default(''),
  /** The folder batch files are put in (relative paths: to the data folder); receipts are read from its receipts/. */
  folderPath: z.string().default(''),
  /** Empty: media files are not sent. */
  folderMediaDir: z.string().default(''),
});
export type Settings = z.infer<typeof settingsSchema>;
export type SettingKey = keyof Settings;
export const SETTING_KEYS = Object.keys(settingsSchema.shape) as SettingKey[];

/** What each file target needs set before `send` can use it. */
export const TARGET_REQUIRED: Record<FileTargetKind, readonly SettingKey[]> = {
  sftp: ['sftpHost', 'sftpUser', 'sftpPrivateKeyPath', 'sftpHostKeyFingerprint', 'sftpTransactionDir'],
  folder: ['folderPath'],
};

/** The settings the chosen file target still misses (empty: configured). */
export function missingTargetSettings(s: Settings): SettingKey[] {
  return TARGET_REQUIRED[s.fileTarget].filter((k) => !s[k]);
}

/**
 * The original edc-sync's (and this app's before file targets) names of the SFTP settings. A settings file that has
 * them is read as if it named the new keys (migrateSettings), and `config get/set` take them as other names.
 */
export const LEGACY_SETTING_NAMES = {
  remoteServerHost: 'sftpHost',
  remotePort: 'sftpPort',
  remoteUser: 'sftpUser',
  privateKeyPath: 'sftpPrivateKeyPath',
  hostKeyFingerprint: 'sftpHostKeyFingerprint',
  remoteTransactionDir: 'sftpTransactionDir',
  remoteMediaDir: 'sftpMediaDir',
} as const satisfies Record<string, SettingKey>;

/** The key a setting name means: itself, or the new name of a legacy one; null when there is no such setting. */
export function settingKeyOf(name: string): SettingKey | null {
  if ((SETTING_KEYS as string[]).includes(name)) return name as SettingKey;
  return Object.hasOwn(LEGACY_SETTING_NAMES, name) ? LEGACY_SETTING_NAMES[name as keyof typeof LEGACY_SETTING_NAMES] : null;
}

/**
 * A settings file's JSON with legacy names moved to the new ones (a new name already there wins), before it is
 * validated: an older data folder keeps sending where it sent, and nobody re-enters anything. Other values pass as
 * they are; what is not an object is left for the schema to refuse.
 */
export function migrateSettings(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const out: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  for (const [old, now] of Object.entries(LEGACY_SETTING_NAMES)) {
    if (!(old in out)) continue;
    if (!(now in out)) out[now] = out[old];
    delete out[old];
  }
  return out;
}
