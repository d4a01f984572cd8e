/** Real edc-sync processes for integration tests: spawn, read their lines, kill them. 127.0.0.1 only. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { readStatus } from '../status.ts';
import { outgoingTransaction } from '../db/schema.ts';
import { rowsOf } from '../db/typed.ts';
import { Store } from '../store.ts';

export const BIN = fileURLToPath(new URL('../../../scripts/edc-sync.mjs', import.meta.url));

export interface Proc {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first line (stdout or stderr) matching re. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `edc-sync ARGS` in a process of its own; `bin` another build of the command line (an older release's, golden/v1/app). */
export function spawnCli(args: string[], env: Record<string, string> = {}, bin = BIN): Proc {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const watchers: { re: RegExp; resolve: (l: string) => void }[] = [];
  const feed = (into: string[]) => {
    let buf = '';
    return (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        into.push(line);
        for (const w of [...watchers]) {
          if (w.re.test(line)) {
            watchers.splice(watchers.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    };
  };
  child.stdout!.on('data', feed(stdout));
  child.stderr!.on('data', feed(stderr));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child, stdout, stderr, exited,
    waitFor(re, timeoutMs = 20_000) {
      const seen = [...stdout, ...stderr].find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}; stdout: ${stdout.join(' | ')}; stderr: ${stderr.join(' | ')}`)), timeoutMs);
        watchers.push({ re, resolve: (l) => { clearTimeout(t); resolve(l); } });
        void exited.then(() => { clearTimeout(t); reject(new Error(`process exited before ${re}; stderr: ${stderr.join(' | ')}`)); });
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerProc extends Proc {
  url: string;
}

export async function startServer(dataDir: string, port = 0, env: Record<string, string> = {}): Promise<ServerProc> {
  const p = spawnCli(['--data', dataDir, 'server', '--host', '127.0.0.1', '--port', String(port), '--json'], env);
  const line = await p.waitFor(/^\{"url":/);
  return Object.assign(p, { url: (JSON.parse(line) as { url: string }).url });
}

/** Polls the store in DIR (its own connection) until fn is true. */
export async function waitForStore(dir: string, fn: (s: ReturnType<typeof readStatus>) => boolean, timeoutMs = 30_000): Promise<ReturnType<typeof readStatus>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const store = Store.open(dir);
    let status;
    try {
      status = readStatus(store);
    } finally {
      store.close();
    }
    if (fn(status)) return status;
    if (Date.now() > deadline) throw new Error(`store ${dir} did not reach the expected state: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * An HTTP proxy on 127.0.0.1 in front of a server. `onRequest(n)` runs before the n-th request is forwarded
 * (1-based) and may kill the client: the request is still forwarded, so the server commits a batch whose
 * answer nobody receives, the worst moment for a client to die.
 */
export async function startProxy(target: string, onRequest: (n: number, path: string) => void | Promise<void>): Promise<{ url: string; close(): Promise<void> }> {
  const http = await import('node:http');
  const t = new URL(target);
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        await onRequest(++n, req.url ?? '');
        const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.destroy());
        up.end(Buffer.concat(chunks));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A TCP proxy on 127.0.0.1 that calls onBytes with the running count of client→server bytes. */
export async function startTcpProxy(port: number, onBytes: (total: number) => void): Promise<{ port: number; close(): Promise<void> }> {
  const net = await import('node:net');
  let total = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => {
      total += d.length;
      onBytes(total);
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** An administrator issues a pairing code for this device's id and role on the site in siteDir; the device pairs. */
export async function pairWithSite(store: Store, siteDir: string, url: string): Promise<void> {
  const { issuePairingCode } = await import('../../server/auth.ts');
  const { pair } = await import('../../sync/server-link.ts');
  const admin = Store.open(siteDir);
  let code: string;
  try {
    code = issuePairingCode(admin, { deviceId: store.deviceId, role: store.role }).code;
  } finally {
    admin.close();
  }
  await pair(store, url, code);
}

/**
 * A push as an app from before pre-flight holds makes it: every pending transaction of `store` in one request, with
 * a push-session header, whatever the receiver can read (used to make a transaction fail at the site for want of a
 * key, as older laptops in a mixed fleet still do). Marks nothing delivered.
 */
export async function pushAsOlderApp(store: Store, batchSize = 500): Promise<{ accepted: string[] }> {
  const { readServerLink } = await import('../../sync/server-link.ts');
  const { toWire } = await import('../envelope.ts');
  const { randomUUID } = await import('node:crypto');
  const link = readServerLink(store.dir);
  const rows = rowsOf(store.sql, outgoingTransaction, 'SELECT * FROM outgoing_transaction WHERE is_consumed_server = 0 ORDER BY producer_seq').all();
  const session = randomUUID();
  const accepted: string[] = [];
  for (let i = 0; i < rows.length; i += batchSize) {
    const res = await fetch(`${link.url}/api/v1/push`, {
      method: 'POST', body: JSON.stringify({ transactions: rows.slice(i, i + batchSize).map(toWire) }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${link.token}`, 'x-edc-push-session': session },
    });
    if (res.status !== 200) throw new Error(`push answered ${res.status}: ${await res.text()}`);
    accepted.push(...((await res.json()) as { accepted: string[] }).accepted);
  }
  return { accepted };
}
