/**
 * The file target the settings name (`fileTarget`: sftp or folder, each with its own keys), opened: where `send`
 * puts batch files (`transactions`) and media (`media`, null when no media folder is set). Nothing else reads the
 * target settings; a new target is a driver (target.ts's interface, held to targets.test.ts) plus a case here and
 * its keys in shared/settings.ts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { EdcError } from '../../../shared/errors.ts';
import { missingTargetSettings, type Settings } from '../../../shared/settings.ts';
import { FolderTarget } from './folder.ts';
import { connectSftp } from './sftp.ts';
import type { FileTarget } from './target.ts';

export type { FileTarget, PutSource, TargetDescription, TargetEntry } from './target.ts';

export interface OpenTargets {
  transactions: FileTarget;
  media: FileTarget | null;
  close(): Promise<void>;
}

/** Throws SFTP_NOT_CONFIGURED (file transfer is not set up) naming the chosen target's missing settings. */
export function requireTargetSettings(s: Settings): void {
  const missing = missingTargetSettings(s);
  if (missing.length) throw new EdcError('SFTP_NOT_CONFIGURED', `missing: ${missing.join(', ')}`);
}

/** For people: where Send files goes (`user@host:/dir`, a folder), or null when the target is not set up. */
export function targetLabel(s: Settings): string | null {
  if (missingTargetSettings(s).length) return null;
  switch (s.fileTarget) {
    case 'sftp': return `${s.sftpUser}@${s.sftpHost}:${s.sftpTransactionDir}`;
    case 'folder': return s.folderPath;
    default: return unreachable(s.fileTarget);
  }
}

/** Opens the settings' target; `dataDir` resolves relative paths (key file, folder). */
export async function openTarget(s: Settings, dataDir: string): Promise<OpenTargets> {
  requireTargetSettings(s);
  switch (s.fileTarget) {
    case 'sftp': {
      let privateKey: Buffer;
      try {
        privateKey = readFileSync(path.resolve(dataDir, s.sftpPrivateKeyPath));
      } catch (cause) {
        throw new EdcError('SFTP_NOT_CONFIGURED', `cannot read sftpPrivateKeyPath ${s.sftpPrivateKeyPath}`, { cause });
      }
      const conn = await connectSftp({ host: s.sftpHost, port: s.sftpPort, user: s.sftpUser, privateKey, hostKeyFingerprint: s.sftpHostKeyFingerprint });
      return { transactions: conn.at(s.sftpTransactionDir), media: s.sftpMediaDir ? conn.at(s.sftpMediaDir) : null, close: () => conn.close() };
    }
    case 'folder': {
      const root = path.resolve(dataDir, s.folderPath);
      // A stick that is not mounted: said plainly, nothing moved.
      if (!existsSync(root) || !statSync(root).isDirectory()) throw new EdcError('IO_FAILED', `the folder ${root} does not exist (is the USB stick or share mounted?)`);
      const media = s.folderMediaDir ? new FolderTarget(path.resolve(root, s.folderMediaDir)) : null;
      return { transactions: new FolderTarget(root), media, close: async () => undefined };
    }
    default: return unreachable(s.fileTarget);
  }
}

function unreachable(x: never): never {
  throw new Error(`unknown file target ${String(x)}`);
}
