/**
 * `edc-sync` command line (DESIGN section 8). Runs under plain Node on the same core the app uses.
 * Exit 0 on success; on failure one line `edc-sync: <what happened and what to do> [CODE]` and a non-zero exit.
 * Progress of long work goes to stderr; `--json` output on stdout is stable.
 */
import { setAsideTransactions } from './core/set-aside.ts';
import { Command, CommanderError, Option } from 'commander';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { classifyError, EdcError, isEdcError } from '../shared/errors.ts';
import type { ProducerWait } from '../shared/status.ts';
import { deviceIdSchema, ROLES, SETTING_KEYS, settingKeyOf, type Role } from '../shared/settings.ts';
import { Consumer, type ConsumeResult } from './core/consumer.ts';
import { listConflicts, resolveConflict } from './core/conflicts.ts';
import { exportBatches, resendBatch } from './files/export.ts';
import { importBatches } from './files/import.ts';
import { applyReceipts, readReceiptsDir } from './files/receipts.ts';
import { pinnedKey, pinPeerKey } from './files/signing.ts';
import { copyFrom } from './core/copy.ts';
import { isDevicePublicKey } from './core/crypto/device-key.ts';
import { en } from '../shared/i18n/en.ts';
import { installKeyFile, KeySet, keySetExists, loadKeySet, middlemanHoldsFullKeys, writeKeySetFile, KEYSET_FILE } from './core/crypto/keyset.ts';
import { seed } from './core/seed.ts';
import { withSetting } from './core/settings-file.ts';
import { readStatus } from './core/status.ts';
import { timeToLab } from './core/time-to-lab.ts';
import { formatDuration } from '../shared/specimens.ts';
import { timeToLabCsv, timeToLabInputSchema } from '../shared/time-to-lab.ts';
import { Store } from './core/store.ts';
import { APP_VERSION } from './core/version.ts';
import type { Progress } from '../shared/api.ts';
import { issuePairingCode, reinstateDevice, revokeDevice } from './server/auth.ts';
import { describeDevice } from '../shared/fleet.ts';
import { listFleet, startOfToday } from './core/fleet.ts';
import { addUser, listUsers, removeUser } from './web/accounts.ts';
import { USER_ROLES, type UserRole } from '../shared/contract.ts';

// What only some commands need is loaded by those commands (the HTTP server and client, SFTP): the bundle puts
// each in a chunk of its own, so `status`, `init`, `export` and the like start without compiling them.
const load = {
  send: () => import('./files/send.ts'),
  siteServer: () => import('./server/site-server.ts'),
  pull: () => import('./sync/pull.ts'),
  push: () => import('./sync/push.ts'),
  serverLink: () => import('./sync/server-link.ts'),
  share: () => import('./sync/share.ts'),
};

/** A middleman set up with the full key set (keys import, status): the catalogue's sentence, as on the Device screen. */
const MIDDLEMAN_FULL_KEYS_WARNING = `warning: ${en.device.keysFullOnMiddleman}`;

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** The password for `user add`: the first line of stdin (or typed, not echoed, at a terminal). */
  readSecret?: (prompt: string) => Promise<string>;
}

const defaultIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  env: process.env,
  readSecret: readSecretFromStdin,
};

async function readSecretFromStdin(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    let text = '';
    try {
      for await (const chunk of stdin) {
        const s = String(chunk);
        if (s === '\u0003') throw new EdcError('INPUT_INVALID', 'cancelled');
        const end = s.search(/[\r\n]/);
        text += end >= 0 ? s.slice(0, end) : s;
        if (end >= 0) break;
      }
    } finally {
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    }
    return text;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

function progressPrinter(io: Io, label: string): (p: { done: number; total: number; phase?: string; bytes?: number }) => void {
  let last = 0;
  return ({ done, total, phase, bytes }: Partial<Progress> & { done: number; total: number }) => {
    const now = Date.now();
    if (done === total || now - last > 250) {
      last = now;
      io.err(`${phase ?? label}: ${done}/${total}${bytes ? ` (${(bytes / 1e6).toFixed(1)} MB)` : ''}`);
    }
  };
}

/** Resolves on SIGTERM / SIGINT (the listeners are removed again). */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export function buildProgram(io: Io = defaultIo): Command {
  const program = new Command('edc-sync')
    .description('Offline-first sync of clinical-research data: field laptops → middleman → site server → central.')
    .option('--data <dir>', 'device data folder (default: $EDC_SYNC_DATA or ~/.edc-sync)')
    .version(APP_VERSION, '-V, --version', 'the app version')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError(false);

  const dataDir = (): string => {
    const opt = program.opts<{ data?: string }>().data;
    return path.resolve(opt ?? io.env.EDC_SYNC_DATA ?? path.join(os.homedir(), '.edc-sync'));
  };
  const withStore = <T>(fn: (store: Store) => T): T => {
    const store = Store.open(dataDir());
    try {
      return fn(store);
    } finally {
      store.close();
    }
  };
  const actor = () => ({ user: io.env.EDC_SYNC_USER ?? os.userInfo().username });

  program.command('init')
    .description('create the store and settings for a role')
    .addOption(new Option('--role <role>', 'device role').choices(ROLES).makeOptionMandatory())
    .requiredOption('--device-id <id>', 'unique id of this device in the study, e.g. ra-07')
    .option('--site-code <code>', 'prefix of subject identifiers, e.g. S01')
    .option('--key-dir <dir>', 'folder holding the project key set (default: <data>/keys)')
    .option('--database <url>', 'site or central: keep the tables in this PostgreSQL database, postgres://user@host:port/db (default: EDC_SYNC_DATABASE, else SQLite in the data folder)')
    .action((o: { role: Role; deviceId: string; siteCode?: string; keyDir?: string; database?: string }) => {
      const dir = dataDir();
      const database = o.database ?? io.env.EDC_SYNC_DATABASE ?? '';
      if (database && o.role !== 'site' && o.role !== 'central') {
        throw new EdcError('ROLE_NOT_ALLOWED', 'only a site or central server keeps its tables in PostgreSQL; laptops use the data folder');
      }
      const store = Store.init(dir, o.role, o.deviceId, {
        ...(o.siteCode ? { siteCode: o.siteCode } : {}), ...(o.keyDir ? { keyDir: path.resolve(o.keyDir) } : {}),
        ...(database ? { database } : {}),
      });
      const keys = store.hasKeys() ? 'key set found' : 'no key set yet: run `edc-sync keys import FILE` (or `keys create` once per study)';
      const warnings = store.permissionWarnings();
      store.close();
      io.out(`initialised ${o.role} device ${o.deviceId} in ${dir}${database ? `, tables in ${store.databaseLabel}` : ''} (${keys})`);
      for (const w of warnings) io.err(`warning: ${w}`);
    });

  const keys = program.command('keys').description('the project key set (AES-256-GCM keys + lookup key)');
  keys.command('create').description('generate the study\'s key set (once per study)').action(() => withStore((store) => {
    if (keySetExists(store.keyDir)) throw new EdcError('KEYS_EXIST', store.keyDir);
    const set = KeySet.generate();
    writeKeySetFile(path.join(store.keyDir, KEYSET_FILE), set);
    io.out(`created key set for project ${set.projectId} (active key ${set.activeKeyId}) in ${store.keyDir}`);
  }));
  keys.command('export').description('write the key set to a file, to copy to the study\'s other devices')
    .requiredOption('--out <file>', 'file to write (must not exist)')
    .option('--for <role>', 'middleman: the carrier key set, without the keys for participants\' details (it carries and checks data, cannot read PII)')
    .action((o: { out: string; for?: string }) => withStore((store) => {
      if (o.for !== undefined && o.for !== 'middleman') throw new EdcError('INPUT_INVALID', `--for takes only "middleman" (the other devices get the full key set: leave --for out)`);
      const full = loadKeySet(store.keyDir);
      const set = o.for === 'middleman' ? full.forCarrier() : full;
      if (!o.for && !set.canReadPii) throw new EdcError('KEYS_CARRIER', 'this device holds a middleman\'s key set: export the full key set from the site or the coordinator\'s device');
      const out = path.resolve(o.out);
      if (existsSync(out)) throw new EdcError('IO_FAILED', `${out} already exists; choose a new file name`);
      writeKeySetFile(out, set);
      io.out(`exported ${set.file.keys.length} key(s) of project ${set.projectId} to ${out}${set.canReadPii ? '' : ' for a middleman (without the keys for participants\' details)'}; keep it secret and delete it after import`);
    }));
  keys.command('import').description('install or add keys from an exported key set').argument('<file>').action((file: string) => withStore((store) => {
    const next = installKeyFile(store, path.resolve(file));
    io.out(`key set of project ${next.projectId} installed: ${next.file.keys.length} key(s), active ${next.activeKeyId}${next.canReadPii ? '' : '; middleman\'s key set: participants\' details stay protected here'}`);
    if (middlemanHoldsFullKeys(store.role, next.scope)) io.err(MIDDLEMAN_FULL_KEYS_WARNING);
  }));
  keys.command('rotate').description('add a new active key (and a new key for participants\' details); older keys keep decrypting').action(() => withStore((store) => {
    const next = loadKeySet(store.keyDir).rotated();
    writeKeySetFile(path.join(store.keyDir, KEYSET_FILE), next);
    io.out(`new active key ${next.activeKeyId}; export the key set again and import it on every device`);
  }));

  program.command('seed').description('write realistic demo data through the normal write path')
    .requiredOption('--subjects <n>', 'number of subjects', (v) => positiveInt(v, '--subjects'))
    .option('--seed <n>', 'random seed', (v) => positiveInt(v, '--seed'))
    .action((o: { subjects: number; seed?: number }) => withStore((store) => {
      const r = seed(store, o.subjects, { ...(o.seed ? { seed: o.seed } : {}), actor: actor(), onProgress: progressPrinter(io, 'seed') });
      io.out(`seeded ${r.subjects} subjects (${r.changes} changes)`);
    }));

  program.command('status').description('counts of outgoing and incoming transactions, gaps, records')
    .option('--json', 'stable JSON output').action((o: { json?: boolean }) => withStore((store) => {
      const s = readStatus(store);
      if (o.json) {
        io.out(JSON.stringify(s));
        return;
      }
      io.out(`${s.role} ${s.deviceId}`);
      if (s.keyScope === 'carrier') io.out('keys: middleman\'s key set (participants\' details stay protected here)');
      if (s.keysWarning) io.err(MIDDLEMAN_FULL_KEYS_WARNING);
      io.out(`outgoing: ${s.outgoing.total} total; waiting for the server: ${s.outgoing.pendingServer} (of which not yet with a middleman: ${s.outgoing.pendingMiddleman})`);
      const h = s.outgoing.hops;
      io.out(`where they are: ${h.here} only here · ${h.middleman} with a middleman · ${h.site} at the site · ${h.central} at central`);
      io.out(`incoming: ${s.incoming.total} total, ${s.incoming.consumed} consumed, ${s.incoming.pending} pending (${s.incoming.deferred} deferred), ${s.incoming.error} error, ${s.incoming.conflicts} conflicts`);
      if (s.role === 'middleman' || s.role === 'site') io.out(`to pass on: ${s.incoming.awaitingForward} received transaction(s) not yet acknowledged by the ${s.role === 'middleman' ? 'site server' : 'central server'}`);
      for (const g of s.incoming.gaps) io.out(`waiting for ${g.from}${g.to > g.from ? `–${g.to}` : ''} from ${g.producer}`);
      for (const w of s.incoming.producerWaits) if (w.kind !== 'gap') io.out(waitLine(w));
      io.out(`records: ${Object.entries(s.records).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      io.out(`last sync: ${s.lastSync ?? 'never'}`);
    }));

  program.command('copy').description("copy another store's outgoing transactions into this store's incoming ones")
    .requiredOption('--from <dir>', 'data folder of the other store').option('--json', 'JSON output')
    .action((o: { from: string; json?: boolean }) => withStore((store) => {
      const r = copyFrom(store, path.resolve(o.from), progressPrinter(io, 'copy'));
      if (o.json) io.out(JSON.stringify({ accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected.length }));
      else io.out(`copied ${r.accepted} new transaction(s), ${r.duplicates} duplicate(s) ignored${r.rejected.length ? `, ${r.rejected.length} rejected: ${r.rejected[0]!.reason}` : ''}`);
    }));

  program.command('consume').description('apply received transactions in order (middleman, site, central)')
    .option('--retry-errors', 'try the transactions marked as errors again').option('--json', 'JSON output')
    .action((o: { retryErrors?: boolean; json?: boolean }) => withStore((store) => {
      const c = new Consumer(store);
      const r: ConsumeResult = o.retryErrors ? c.retryErrors(progressPrinter(io, 'retry')) : c.consume(progressPrinter(io, 'consume'));
      if (o.json) {
        io.out(JSON.stringify(r));
        return;
      }
      io.out(`applied ${r.applied}, ignored ${r.ignored}, errors ${r.errors}, conflicts ${r.conflicts}, deferred ${r.deferred}`);
      for (const g of r.gaps) io.out(`waiting for ${g.from}${g.to > g.from ? `–${g.to}` : ''} from ${g.producer}`);
    }));

  program.command('server').description('site/central: REST API for devices (consumed in the background) and the web UI; field/middleman: the web UI only')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0: any free port)', (v) => port(v), 8080)
    .option('--json', 'print {"url": …} once listening')
    .option('--secure-cookies', 'mark the web UI\'s session cookie Secure (when a TLS reverse proxy serves it as https)')
    .action(async (o: { host: string; port: number; json?: boolean; secureCookies?: boolean }) => {
      const store = Store.open(dataDir());
      try {
        for (const w of store.permissionWarnings()) io.err(`warning: ${w}`);
        const server = await (await load.siteServer()).startSiteServer(store, o.host, o.port, (l) => io.err(l), { secureCookie: o.secureCookies ?? false });
        io.out(o.json ? JSON.stringify({ url: server.url }) : `${store.role} server ${store.deviceId} listening on ${server.url}`);
        const sig = await untilSignal();
        io.err(`${sig}: stopping (finishing the current consume step)`);
        await server.close();
      } finally {
        store.close();
      }
    });

  program.command('pairing-code').description('server: a one-time code (10 minutes) that pairs exactly this device id with this role')
    .requiredOption('--device-id <id>', 'the device the code is for, e.g. ra-07')
    .addOption(new Option('--role <role>', 'its role').choices(ROLES).makeOptionMandatory())
    .option('--replace', 'give the id of an already paired (or revoked) device to a new machine: its old token and key stop working')
    .option('--json', 'print {"code": …, "expiresAt": …}').action((o: { deviceId: string; role: Role; replace?: boolean; json?: boolean }) => withStore((store) => {
      const c = issuePairingCode(store, { deviceId: o.deviceId, role: o.role, purpose: o.replace ? 'replace' : 'pair', actor: actor().user });
      io.out(o.json ? JSON.stringify(c) : `pairing code ${c.code} for ${c.deviceId} as ${c.role}${o.replace ? ' (replaces the current machine)' : ''} (valid until ${c.expiresAt}, once)`);
    }));

  program.command('device-key').description('this device\'s id and public signing key, for the administrator of a device that receives its files or receipts (edc-sync trust there)')
    .option('--json', 'print {"deviceId": …, "publicKey": …}').action((o: { json?: boolean }) => withStore((store) => {
      const k = { deviceId: store.deviceId, publicKey: store.signingKey.publicKey };
      io.out(o.json ? JSON.stringify(k) : `${k.deviceId} ${k.publicKey}\n  on the other device: edc-sync trust --device-id ${k.deviceId} --public-key ${k.publicKey}`);
    }));

  program.command('trust').description('record the public key of a device whose files (central: a site) or receipts (site: central) this one accepts; replaces one pinned before')
    .requiredOption('--device-id <id>', 'the device, e.g. central-01').requiredOption('--public-key <key>', 'what `edc-sync device-key` prints on it')
    .action((o: { deviceId: string; publicKey: string }) => withStore((store) => {
      const id = deviceIdSchema.safeParse(o.deviceId);
      if (!id.success) throw new EdcError('INPUT_INVALID', `"${o.deviceId}" is not a device id`);
      if (!isDevicePublicKey(o.publicKey)) throw new EdcError('INPUT_INVALID', 'that is not a device key: copy the 43 characters `edc-sync device-key` prints on the other device');
      const before = pinnedKey(store, id.data);
      pinPeerKey(store, id.data, o.publicKey, 'registered');
      io.out(before && before.publicKey !== o.publicKey ? `key of ${id.data} replaced (was pinned ${before.how} on ${before.at})` : `key of ${id.data} recorded`);
    }));

  program.command('pair').description('device: pair with a server using the code it shows')
    .requiredOption('--server <url>', 'server address, e.g. http://10.0.0.5:8080').requiredOption('--code <code>', 'pairing code')
    .action(async (o: { server: string; code: string }) => {
      const store = Store.open(dataDir());
      try {
        const link = await (await load.serverLink()).pair(store, o.server, o.code);
        io.out(`paired ${link.deviceId} with server ${link.serverDeviceId} at ${link.url}`);
      } finally {
        store.close();
      }
    });

  const devices = program.command('devices').description('paired devices, and every device heard from: what each made, what is held here and at central, what it still owes, versions, keys, clock');
  devices.command('list').option('--json', 'JSON output').option('--today', 'only devices seen since midnight (a middleman\'s laptops visited today)')
    .action((o: { json?: boolean; today?: boolean }) => withStore((store) => {
      const list = listFleet(store, o.today ? { seenSince: startOfToday(store) } : {}); // attention first, ordered in SQL
      if (o.json) io.out(JSON.stringify(list));
      else for (const d of list) io.out(describeDevice(d));
    }));
  devices.command('revoke').argument('<deviceId>').description('the device\'s token stops working at once').action((id: string) => withStore((store) => {
    revokeDevice(store, id, actor().user);
    io.out(`revoked ${id}; it stays revoked until \`devices reinstate ${id}\` (or a replace code for a new machine)`);
  }));
  devices.command('reinstate').argument('<deviceId>').description('a revoked device may sync again with its token and key (recorded)').action((id: string) => withStore((store) => {
    reinstateDevice(store, id, actor().user);
    io.out(`reinstated ${id}`);
  }));

  program.command('push').description('field/middleman: send pending transactions to the paired server')
    .option('--batch-size <n>', 'transactions per request', (v) => positiveInt(v, '--batch-size')).option('--json', 'JSON output')
    .action(async (o: { batchSize?: number; json?: boolean }) => {
      const store = Store.open(dataDir());
      try {
        const pushing = await load.push();
        const r = await pushing.push(store, { onProgress: progressPrinter(io, 'push'), actor: actor(), ...(o.batchSize ? { batchCount: o.batchSize } : {}) });
        if (o.json) {
          const { renumbered, ...rest } = r;
          io.out(JSON.stringify({ ...rest, rejected: r.rejected.length, ...(renumbered ? { renumbered: { count: renumbered.count, mark: renumbered.mark, ownLast: renumbered.ownLast, from: renumbered.from, to: renumbered.to } } : {}) }));
        } else io.out(`pushed ${r.sent}: ${r.accepted} new at the server, ${r.duplicates} it already had${r.rejected.length ? `, ${r.rejected.length} REJECTED: ${r.rejected[0]!.reason}` : ''}`);
        if (r.behind) io.err(pushing.behindSentence(store.deviceId, 'the server', r.behind));
        if (r.renumbered) io.err(pushing.renumberedSentence(store.deviceId, 'the server', r.renumbered));
        for (const h of r.held) io.err(`kept here, not sent: ${h.count} transaction(s) of ${h.producer}: ${h.reason}`);
        if (r.rejected.length) throw new EdcError('SERVER_REJECTED', `${r.rejected.length} transaction(s) refused: ${r.rejected[0]!.reason}`);
      } finally {
        store.close();
      }
    });

  program.command('share').description('field: let a middleman pull this laptop\'s transactions over the local network')
    .option('--host <host>', 'address of the interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0: any free port)', (v) => port(v), 0)
    .option('--idle-minutes <n>', 'close after this long without requests', (v) => positiveInt(v, '--idle-minutes'), 10)
    .option('--json', 'print {"url": …, "code": …} once listening')
    .action(async (o: { host: string; port: number; idleMinutes: number; json?: boolean }) => {
      const store = Store.open(dataDir());
      try {
        const share = await (await load.share()).startShare(store, {
          host: o.host, port: o.port, idleMs: o.idleMinutes * 60_000,
          onSession: (m) => io.err(`middleman ${m} connected`),
          onAck: (p) => io.err(`acknowledged ${p.acknowledged}; ${p.total} still waiting for a middleman or the server`),
        });
        io.out(o.json ? JSON.stringify({ url: share.url, code: share.code }) : `sharing on ${share.url} — code ${share.code}`);
        const why = await Promise.race([share.closed, untilSignal().then(async () => { await share.stop(); return 'stopped' as const; })]);
        io.err(`share closed (${why})`);
      } finally {
        store.close();
      }
    });

  program.command('pull').description('middleman: pull a field laptop\'s transactions and apply them here')
    .requiredOption('--from <url>', 'the URL the laptop shows').requiredOption('--code <code>', 'the code the laptop shows')
    .option('--page-size <n>', 'transactions per page', (v) => positiveInt(v, '--page-size')).option('--json', 'JSON output')
    .action(async (o: { from: string; code: string; pageSize?: number; json?: boolean }) => {
      const store = Store.open(dataDir());
      try {
        const r = await (await load.pull()).pull(store, o.from, o.code, { onProgress: progressPrinter(io, 'pull'), ...(o.pageSize ? { pageSize: o.pageSize } : {}) });
        if (o.json) io.out(JSON.stringify({ producer: r.producer, received: r.received, duplicates: r.duplicates, rejected: r.rejected.length, consumed: r.consumed }));
        else io.out(`pulled ${r.received} new transaction(s) from ${r.producer} (${r.duplicates} already here); applied ${r.consumed.applied}, deferred ${r.consumed.deferred}, errors ${r.consumed.errors}`);
      } finally {
        store.close();
      }
    });

  program.command('export').description('pending transactions → batch files (+ manifest) in localTransactionDir or DIR (e.g. a USB stick)')
    .option('--out <dir>', 'folder to write to').option('--json', 'JSON output')
    .option('--resend <batch>', 'write batch N (its number or id) again, byte for byte, under its original number: the receiver quarantined or never got it')
    .action((o: { out?: string; json?: boolean; resend?: string }) => withStore((store) => {
      if (o.resend) {
        const b = resendBatch(store, o.resend, o.out);
        io.out(o.json ? JSON.stringify(b) : `batch ${b.batchSeq} (${b.count} transaction(s)) written again to ${b.dir}: ${b.fileName}`);
        return;
      }
      const r = exportBatches(store, o.out, progressPrinter(io, 'export'));
      if (o.json) io.out(JSON.stringify(r));
      else io.out(r.batches.length ? `exported ${r.batches.reduce((n, b) => n + b.count, 0)} transaction(s) in ${r.batches.length} batch file(s) to ${r.dir}` : 'nothing to export');
    }));

  program.command('import').description('site/central: import, check, consume and archive the batch files that arrived')
    .option('--dir <dir>', 'folder to import from (default importDir)').option('--json', 'JSON output')
    .option('--watch [seconds]', 'keep importing what arrives, every N seconds (default 10) until SIGTERM')
    .action(async (o: { dir?: string; json?: boolean; watch?: boolean | string }) => {
      const seconds = o.watch === undefined || o.watch === false ? 0 : o.watch === true ? 10 : positiveInt(o.watch, '--watch');
      const store = Store.open(dataDir());
      const once = () => {
        const r = importBatches(store, o.dir, progressPrinter(io, 'import'));
        if (o.json) {
          io.out(JSON.stringify(r));
          return;
        }
        if (o.watch && r.imported.length + r.skipped.length + r.quarantined.length === 0 && r.gaps.length === 0) return;
        io.out(`imported ${r.imported.length} batch file(s) (${r.imported.reduce((n, b) => n + b.accepted, 0)} new transactions), skipped ${r.skipped.length}, quarantined ${r.quarantined.length}`);
        for (const q of r.quarantined) io.out(`quarantined ${q.fileName}: ${q.reason}`);
        for (const s of r.skipped) io.out(`skipped ${s.fileName}: ${s.reason}`);
        for (const g of r.gaps) io.out(`waiting for batch ${g.from}${g.to > g.from ? `–${g.to}` : ''} from ${g.producer}`);
      };
      try {
        once();
        if (!seconds) return;
        io.err(`watching ${o.dir ?? store.settings.importDir} every ${seconds}s; SIGTERM to stop`);
        const timer = setInterval(() => {
          try {
            once();
          } catch (e) {
            io.err(`import: ${isEdcError(e) ? `${e.message} [${e.code}]` : String(e)}`); // keep watching: the folder may come back
          }
        }, seconds * 1000);
        await untilSignal();
        clearInterval(timer);
      } finally {
        store.close();
      }
    });

  program.command('send').description('SFTP: fetch receipts, upload written batches (then archive them) and media files')
    .option('--json', 'JSON output').action(async (o: { json?: boolean }) => {
      const store = Store.open(dataDir());
      try {
        const r = await (await load.send()).send(store, { onProgress: progressPrinter(io, 'send') });
        if (o.json) io.out(JSON.stringify(r));
        else io.out(`${r.receipts.acknowledged.length} receipt(s) applied; sent ${r.sent.length} batch file(s) (${r.sent.reduce((n, b) => n + b.count, 0)} transactions); media: ${r.media.sent} sent, ${r.media.skipped} already there`);
      } finally {
        store.close();
      }
    });

  program.command('receipts').description('read the receipts a receiver wrote (USB: the stick\'s receipts/ folder) and mark those batches delivered')
    .requiredOption('--dir <dir>', 'folder holding receipts/ (or the receipts themselves)')
    .action(async (o: { dir: string }) => {
      const store = Store.open(dataDir());
      try {
        const r = applyReceipts(store, await readReceiptsDir(path.resolve(o.dir)), { via: 'usb' });
        // What was marked, from this device's own batch records (not what a receipt claims).
        io.out(`${r.acknowledged.length} batch(es) acknowledged (${r.acknowledged.reduce((n, b) => n + b.count, 0)} transactions marked delivered), ${r.ignored} receipt(s) not for pending batches of this device`);
        for (const x of r.refused) io.out(`refused the receipt for batch ${x.batchId}: ${x.reason}`);
      } finally {
        store.close();
      }
    });

  const specimens = program.command('specimens').description('specimen summaries');
  specimens.command('time-to-lab').description('site: draw-to-receipt time per local day of the draw and per laptop (receipt: the lab\'s reconciliation here matched the tube)')
    .option('--from <date>', 'first day drawn (YYYY-MM-DD, local; default 13 days before --to)')
    .option('--to <date>', 'last day drawn (YYYY-MM-DD, local; default today)')
    .addOption(new Option('--csv', 'CSV for a spreadsheet: day x laptop rows, then per day, per laptop, the period').conflicts('json'))
    .option('--json', 'stable JSON output')
    .action((o: { from?: string; to?: string; csv?: boolean; json?: boolean }) => withStore((store) => {
      if (store.role !== 'site') throw new EdcError('ROLE_NOT_ALLOWED', 'time to lab is computed on the site, where the lab receives the tubes');
      const input = timeToLabInputSchema.safeParse({ ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}) });
      if (!input.success) throw new EdcError('INPUT_INVALID', '--from and --to are days as YYYY-MM-DD, from on or before to, at most a year apart');
      const s = timeToLab(store, input.data);
      if (o.csv) {
        io.out(timeToLabCsv(s).trimEnd());
        return;
      }
      if (o.json) {
        io.out(JSON.stringify(s));
        return;
      }
      io.out(`time to lab, tubes drawn ${s.from} to ${s.to} (${s.timeZone}), receipt = the lab's reconciliation here`);
      if (!s.overall) {
        io.out('no tube drawn on these days has been received at the lab yet');
        return;
      }
      const line = (label: string, g: { tubes: number; medianMinutes: number; worstMinutes: number; worstTube: string; overLimit: number }) =>
        io.out(`${label.padEnd(12)} ${String(g.tubes).padStart(5)} tube(s)  median ${formatDuration(g.medianMinutes).padEnd(12)} worst ${formatDuration(g.worstMinutes).padEnd(12)} (${g.worstTube})  ${g.overLimit} past limit`);
      line('all', s.overall);
      for (const d of s.days) line(d.day, d);
      for (const l of s.laptops) line(l.producer, l);
    }));

  program.command('conflicts').description('changes not applied because the record changed here meanwhile: both versions, for review')
    .option('--json', 'JSON output (full records)').action((o: { json?: boolean }) => withStore((store) => {
      const list = listConflicts(store);
      if (o.json) {
        io.out(JSON.stringify(list));
        return;
      }
      if (list.length === 0) io.out('no conflicts');
      for (const c of list) {
        io.out(`${c.txName} ${c.recordId}: here revision ${c.localRevision ?? '-'}, incoming change made from revision ${c.incomingBaseRevision} (transaction ${c.incomingId}, ${c.detectedAt})`);
        for (const [col, [here, incoming]] of Object.entries(c.differences)) io.out(`  ${col}: here ${JSON.stringify(here)} · incoming ${JSON.stringify(incoming)}`);
      }
    }));

  const user = program.command('user').description('web UI accounts (site/central; any device serving its UI)');
  user.command('add').description('add an account, or set a new password and role (password read from stdin)')
    .requiredOption('--username <name>', 'login name').addOption(new Option('--role <role>', 'what the account may do').choices(USER_ROLES).makeOptionMandatory())
    .action(async (o: { username: string; role: UserRole }) => {
      const password = await (io.readSecret ?? readSecretFromStdin)(`password for ${o.username}: `);
      const store = Store.open(dataDir());
      try {
        const created = await addUser(store, o.username, o.role, password);
        io.out(created ? `added ${o.role} ${o.username}` : `updated ${o.username}: role ${o.role}, new password (old sessions ended)`);
      } finally {
        store.close();
      }
    });
  user.command('remove').description('remove an account; its sessions end at once')
    .requiredOption('--username <name>', 'login name').action((o: { username: string }) => withStore((store) => {
      removeUser(store, o.username);
      io.out(`removed ${o.username}`);
    }));
  user.command('list').option('--json', 'JSON output').action((o: { json?: boolean }) => withStore((store) => {
    const list = listUsers(store);
    if (o.json) io.out(JSON.stringify(list));
    else for (const u of list) io.out(`${u.username} ${u.role} (since ${u.createdAt})`);
  }));

  program.command('resolve-conflict').description('settle a listed conflict: keep the version here, or take the incoming one')
    .argument('<transactionId>', 'the incoming transaction id that `conflicts` shows')
    .option('--keep-here', 'keep this device\'s version').option('--take-incoming', 'write the incoming version (it syncs on like any change)')
    .action((id: string, o: { keepHere?: boolean; takeIncoming?: boolean }) => withStore((store) => {
      if (Boolean(o.keepHere) === Boolean(o.takeIncoming)) throw new EdcError('INPUT_INVALID', 'give exactly one of --keep-here and --take-incoming');
      const r = resolveConflict(store, id, o.takeIncoming ? 'take-incoming' : 'keep-here', actor());
      io.out(o.takeIncoming ? `took the incoming version${r.recordRevision === null ? ' (the record is deleted)' : ` (record now at revision ${r.recordRevision})`}` : 'kept the version here');
    }));

  program.command('set-aside').description('site/central: set aside a received change that can never apply, with a reason (recorded, audited, synced on; nothing is deleted)')
    .argument('<transactionId>', 'the failed incoming transaction (the Consumed batches screen or `status --json` shows it)')
    .requiredOption('--reason <text>', 'why it can never apply, in words the next person understands')
    .option('--only-this', 'leave the changes that wait for it as they are (by default they are set aside with it)')
    .option('--same-reason', 'also the same device\'s other changes that failed for exactly the same reason (a lost key fails a whole day)')
    .option('--json', 'JSON output')
    .action((id: string, o: { reason: string; onlyThis?: boolean; sameReason?: boolean; json?: boolean }) => withStore((store) => {
      if (store.role !== 'site' && store.role !== 'central') throw new EdcError('ROLE_NOT_ALLOWED', `a ${store.role} device does not set changes aside; its site does`);
      const { ids, plan } = setAsideTransactions(store, id, o.reason, actor(), { withDependants: !o.onlyThis, withAlike: Boolean(o.sameReason) });
      if (o.json) io.out(JSON.stringify({ setAside: ids, left: o.onlyThis ? plan.dependants.map((d) => d.id) : [] }));
      else {
        io.out(`set aside ${ids.length === 1 ? id : `${id} and ${ids.length - 1} more`} (${plan.root.txName} of ${plan.root.producer}, #${plan.root.producerSeq}); they stay on record`);
        if (!o.sameReason && plan.alike.length > 0) io.out(`${plan.alike.length} other changes of ${plan.root.producer} failed for the same reason: add --same-reason to set them aside too`);
        if (o.onlyThis && plan.dependants.length > 0) io.out(`${plan.dependants.length} still wait for it: set them aside too with \`edc-sync set-aside ${id} --reason …\` (without --only-this)`);
      }
    }));

  const config = program.command('config').description('settings (DIR/settings.json, validated)');
  config.command('get').argument('[key]').description('print one setting, or all').action((key?: string) => withStore((store) => {
    if (key === undefined) {
      for (const k of SETTING_KEYS) io.out(`${k}=${JSON.stringify(store.settings[k])}`);
      return;
    }
    const known = settingKeyOf(key); // a legacy name (remoteServerHost…) reads the setting it now is
    if (!known) throw new EdcError('SETTING_UNKNOWN', `"${key}"`);
    const v = store.settings[known];
    io.out(typeof v === 'string' ? v : JSON.stringify(v));
  }));
  config.command('set').argument('<key>').argument('<value>').description('change one setting').action((key: string, value: string) => withStore((store) => {
    store.saveSettings(withSetting(store.settings, key, value));
    io.out(`${key} set`);
  }));

  return program;
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new EdcError('INPUT_INVALID', `--port must be 0–65535, not "${v}"`);
  return n;
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new EdcError('INPUT_INVALID', `${name} must be a whole number ≥ 1, not "${v}"`);
  return n;
}

/** Returns the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (caught) {
    const e = classifyError(caught);
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2; // commander already printed a one-line reason
    }
    if (isEdcError(e)) {
      io.err(`edc-sync: ${e.message} [${e.code}]`);
      return 1;
    }
    io.err(`edc-sync: unexpected failure: ${e instanceof Error ? e.message : String(e)} [INTERNAL]`);
    return 1;
  }
}

/** One producer's wait in a sentence (`status`): why its transactions are not applied yet, and what clears it. */
function waitLine(w: ProducerWait): string {
  switch (w.kind) {
    case 'gap': return `waiting for ${w.from}${w.to > w.from ? `–${w.to}` : ''} from ${w.producer}`;
    case 'deferred': return `${w.count} from ${w.producer} wait for a record they belong to that has not arrived yet${w.since ? ` (since ${w.since})` : ''}`;
    case 'blocked': return `${w.count} from ${w.producer} wait for ${w.by}, which failed here (${w.reason}); they apply once it is retried or sent again`;
    case 'schema': return `${w.count} from ${w.producer} were written by schema ${w.schemaVersion}; this device runs schema ${w.here}: update EDC Sync here`;
    case 'key': return `${w.count} from ${w.producer} use key${w.keyIds.length > 1 ? 's' : ''} ${w.keyIds.join(', ')}, which this device's key set lacks: import the newer key set (keys import), then consume --retry-errors`;
    default: {
      const never: never = w;
      return never;
    }
  }
}
