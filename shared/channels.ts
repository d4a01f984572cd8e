/**
 * The names of the app's API calls and its one event stream. Kept apart from the schemas so the Electron preload
 * (bundled into a sandboxed script) carries only these strings; `contract.ts` is checked to define exactly these.
 */
export const CALL_NAMES = [
  'app.info',
  'device.setup',
  'settings.update',
  'status.get',
  'server.check',
  'sync.run',
  'subjects.search',
  'subjects.register',
  'subjects.get',
  'consent.save',
  'visits.add',
  'crf.vitalSigns.save',
  'crf.medicalHistory.save',
  'requisitions.create',
  'requisitions.correctDrawTime',
  'records.correct',
  'records.delete',
  'records.history',
  'subjects.deleted',
  'pending.list',
  'pending.open',
  'share.start',
  'share.stop',
  'share.state',
  'pull.run',
  'reconciliation.expected',
  'reconciliation.save',
  'specimens.settings',
  'custody.chain',
  'custody.flagged',
  'specimens.timeToLab',
  'files.overview',
  'files.send',
  'files.import',
  'files.resend',
  'files.setAside',
  'batches.list',
  'batches.requests',
  'batches.transactions',
  'batches.reasons',
  'transactions.inspect',
  'batches.retry',
  'transactions.setAsidePlan',
  'transactions.setAside',
  'conflicts.list',
  'conflicts.resolve',
  'devices.list',
  'devices.clock',
  'devices.pairingCode',
] as const;

export type CallName = (typeof CALL_NAMES)[number];

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && (CALL_NAMES as readonly string[]).includes(name);
}

/** Electron IPC channel of a call (ipcMain.handle / ipcRenderer.invoke). */
export const callChannel = (name: CallName): `edc:call:${CallName}` => `edc:call:${name}`;

/** The one main → renderer channel: progress and state events. */
export const EVENT_CHANNEL = 'edc:event';

/** What the preload exposes as `window.edc`: nothing else reaches the page. */
export interface DesktopBridge {
  invoke(name: CallName, input: unknown): Promise<unknown>;
  onEvent(listener: (event: unknown) => void): () => void;
}
