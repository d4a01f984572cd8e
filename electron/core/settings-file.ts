import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EdcError } from '../../shared/errors.ts';
import { migrateSettings, SETTING_KEYS, settingKeyOf, settingsSchema, type SettingKey, type Settings } from '../../shared/settings.ts';

export const SETTINGS_FILE = 'settings.json';

/** The data folder's settings; a file from an older version (the original's remote* names) reads the same (migrateSettings). */
export function readSettings(dir: string): Settings {
  const file = path.join(dir, SETTINGS_FILE);
  if (!existsSync(file)) throw new EdcError('DATA_DIR_MISSING', `${dir} has no ${SETTINGS_FILE}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new EdcError('SETTINGS_INVALID', `${file} is not readable JSON`, { cause });
  }
  const parsed = settingsSchema.safeParse(migrateSettings(json));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdcError('SETTINGS_INVALID', `${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Atomic: temporary file then rename, so a crash never leaves half a settings file. */
export function writeSettings(dir: string, settings: Settings): void {
  const file = path.join(dir, SETTINGS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(settingsSchema.parse(settings), null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (cause) {
    throw new EdcError('IO_FAILED', `cannot write ${file}`, { cause });
  }
}

export function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as string[]).includes(key);
}

/**
 * `config set K V`: V is parsed as JSON when it is a number/boolean literal, else taken as a string; then validated.
 * K may be a legacy name (remoteServerHost…): the setting it now has is changed.
 */
export function withSetting(settings: Settings, name: string, raw: string): Settings {
  const key = settingKeyOf(name);
  if (!key) throw new EdcError('SETTING_UNKNOWN', `"${name}"`);
  if (key === 'role' || key === 'deviceId') {
    throw new EdcError('SETTING_VALUE_INVALID', `${key} is fixed when the device is set up (init); changing it would break the transaction log`);
  }
  if (key === 'database' && (!settings.database || !raw)) {
    throw new EdcError('SETTING_VALUE_INVALID', 'database: where the tables live (SQLite or PostgreSQL) is chosen once, at init; only a PostgreSQL store can be pointed at its database\'s new address (after a restore with pg_restore)');
  }
  let value: unknown = raw;
  if (/^(true|false|-?\d+(\.\d+)?)$/.test(raw)) value = JSON.parse(raw);
  if (/^\s*[{[]/.test(raw)) {
    try {
      value = JSON.parse(raw); // stabilityMinutes '{"CD4":1440}'
    } catch {
      throw new EdcError('SETTING_VALUE_INVALID', `${key}: not valid JSON`);
    }
  }
  if (key === 'knownProducers') value = raw.split(',').map((x) => x.trim()).filter(Boolean); // ra-01,site-02
  const fieldSchema = settingsSchema.shape[key];
  let parsed = fieldSchema.safeParse(value);
  if (!parsed.success && typeof value !== 'string') parsed = fieldSchema.safeParse(raw);
  if (!parsed.success) throw new EdcError('SETTING_VALUE_INVALID', `${key}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return { ...settings, [key]: parsed.data };
}
