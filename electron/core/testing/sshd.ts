/**
 * A real OpenSSH sshd for SFTP tests (TOOLCHAIN.md recipe): temporary host and client ed25519 keys, a free port on
 * 127.0.0.1, key-only auth, `internal-sftp` forced with its root in a temporary folder. ~0.5 s to start.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './processes.ts';

export interface Sshd {
  host: string;
  port: number;
  user: string;
  /** Client private key file (OpenSSH format). */
  clientKey: string;
  /** "SHA256:…" of the host key, as `ssh-keygen -lf` prints it. */
  hostFingerprint: string;
  /** A folder for the test to use as the remote side: pass absolute paths inside it (internal-sftp -d only sets the
   *  starting directory; it is not a chroot, which TOOLCHAIN.md warns not to use under /tmp). */
  root: string;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<Sshd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edc-sshd-'));
  const root = path.join(dir, 'root');
  mkdirSync(root);
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  const port = await freePort();
  const cfg = path.join(dir, 'sshd_config');
  writeFileSync(cfg, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'PidFile none', 'UsePAM no', 'StrictModes no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password', 'Subsystem sftp internal-sftp', `ForceCommand internal-sftp -d ${root}`, 'LogLevel ERROR',
  ].join('\n') + '\n');
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  // Ready when the port accepts connections.
  const net = await import('node:net');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: '127.0.0.1', port, user: os.userInfo().username, clientKey, hostFingerprint: fingerprint, root,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
