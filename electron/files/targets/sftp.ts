/**
 * SFTP as a file target (ssh2-sftp-client). connectSftp() logs in with a private key and refuses a server whose host
 * key is not the pinned one (SHA256:…, as `ssh-keygen -lf` prints it), classifying the failure (host key, login,
 * unreachable). A connection serves several roots (`at`): the transaction folder and the media folder share it.
 * put() uploads to `.<name>.part`, checks the uploaded size, removes an older file of the final name (an SFTP rename
 * does not replace) and renames.
 */
import { createHash } from 'node:crypto';
import path from 'node:path/posix';
import Client from 'ssh2-sftp-client';
import { EdcError, isEdcError } from '../../../shared/errors.ts';
import { describeSource, partName, safeRelative, type FileTarget, type PutSource, type TargetDescription, type TargetEntry } from './target.ts';

export interface SftpConfig {
  host: string;
  port: number;
  user: string;
  privateKey: Buffer;
  /** SHA256:… of the server's host key; any other key is refused before logging in. */
  hostKeyFingerprint: string;
}

export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** An open SFTP connection; `at(root)` gives a target rooted at a remote folder. */
export interface SftpConnection {
  at(root: string): SftpTarget;
  close(): Promise<void>;
}

export async function connectSftp(cfg: SftpConfig): Promise<SftpConnection> {
  const client = new Client('edc-sync');
  let seenKey: string | null = null;
  const where = `${cfg.host}:${cfg.port}`;
  try {
    await client.connect({
      host: cfg.host, port: cfg.port, username: cfg.user, privateKey: cfg.privateKey, readyTimeout: 15_000, retries: 0,
      hostVerifier: (key: Buffer) => {
        seenKey = fingerprintOf(key);
        return seenKey === cfg.hostKeyFingerprint.trim();
      },
    } as Client.ConnectOptions);
  } catch (e) {
    throw classify(e, seenKey, cfg.hostKeyFingerprint, where);
  }
  return {
    at: (root) => new SftpTarget(client, root, `${cfg.user}@${cfg.host}`),
    close: () => client.end().then(() => undefined, () => undefined),
  };
}

export class SftpTarget implements FileTarget {
  private readonly root: string;

  constructor(private readonly client: Client, root: string, private readonly login: string) {
    this.root = root.replace(/\/+$/, '') || '/';
  }

  describe(): TargetDescription {
    return { kind: 'sftp', where: `${this.login}:${this.root}`, authenticated: true };
  }

  private at(rel: string): string {
    const r = safeRelative(rel);
    return r ? path.join(this.root, r) : this.root;
  }

  private async run<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw isEdcError(e) ? e : new EdcError('SFTP_FAILED', `${what}: ${(e as Error).message}`, { cause: e });
    }
  }

  async list(dir: string): Promise<TargetEntry[]> {
    const full = this.at(dir);
    return this.run(`cannot list ${full}`, async () => {
      if ((await this.client.exists(full)) !== 'd') return [];
      return (await this.client.list(full)).filter((f) => f.type === '-').map((f) => ({ name: f.name, size: f.size }));
    });
  }

  async read(file: string, maxBytes: number): Promise<Buffer> {
    const full = this.at(file);
    return this.run(`cannot read ${full}`, async () => {
      const kind = await this.client.exists(full);
      if (kind === false) throw new EdcError('IO_FAILED', `${file}: the file is missing`);
      if (kind !== '-') throw new EdcError('IO_FAILED', `${file}: not a regular file`);
      const st = await this.client.stat(full);
      if (st.size > maxBytes) throw new EdcError('IO_FAILED', `${file}: ${st.size} bytes, more than ${maxBytes}`);
      const data = await this.client.get(full);
      if (!Buffer.isBuffer(data)) throw new EdcError('SFTP_FAILED', `${file}: no data`);
      if (data.length > maxBytes) throw new EdcError('IO_FAILED', `${file}: more than ${maxBytes} bytes`);
      return data;
    });
  }

  async put(file: string, source: PutSource): Promise<{ size: number; sha256: string }> {
    const rel = safeRelative(file);
    const final = this.at(rel);
    const tmp = this.at(partName(rel));
    return this.run(`cannot upload ${final}`, async () => {
      const want = await describeSource(source);
      if (Buffer.isBuffer(source)) await this.client.put(source, tmp);
      else await this.client.fastPut(source.file, tmp);
      const st = await this.client.stat(tmp);
      if (st.size !== want.size) throw new EdcError('SFTP_FAILED', `${rel}: uploaded ${st.size} bytes of ${want.size}`);
      if ((await this.client.exists(final)) === '-') await this.client.delete(final);
      await this.client.rename(tmp, final);
      return want;
    });
  }

  async exists(file: string): Promise<boolean> {
    const full = this.at(file);
    return this.run(`cannot look up ${full}`, async () => (await this.client.exists(full)) !== false);
  }

  async stat(file: string): Promise<{ size: number } | null> {
    const full = this.at(file);
    return this.run(`cannot look up ${full}`, async () => ((await this.client.exists(full)) === '-' ? { size: (await this.client.stat(full)).size } : null));
  }

  async remove(file: string): Promise<void> {
    const full = this.at(file);
    return this.run(`cannot remove ${full}`, async () => {
      const kind = await this.client.exists(full);
      if (kind === false) return;
      if (kind === 'd') throw new EdcError('SFTP_FAILED', `${full} is a folder`);
      await this.client.delete(full, true);
    });
  }

  /** The connection is closed by its owner (SftpConnection.close), once for all its roots. */
  async close(): Promise<void> {}
}

function classify(e: unknown, seenKey: string | null, expected: string, where: string): EdcError {
  const msg = (e as Error).message ?? String(e);
  if (seenKey && seenKey !== expected.trim()) return new EdcError('HOST_KEY_MISMATCH', `${where} presented ${seenKey}`);
  if (/authentication/i.test(msg)) return new EdcError('SFTP_AUTH_FAILED', where);
  if (/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|timed out/i.test(msg)) return new EdcError('SERVER_UNREACHABLE', `${where}: ${msg}`);
  return new EdcError('SFTP_FAILED', `${where}: ${msg}`);
}
