/**
 * A file target: where `send` puts batch files and media and finds the receiver's receipts. One interface, several
 * drivers (a local folder: a USB stick or a mounted share, folder.ts; SFTP, sftp.ts; in memory, memory.ts), all
 * held to one contract suite (targets.test.ts). Model: joplin's file-api.ts and its drivers.
 *
 * Paths are relative to the target's root and use `/`; one that leaves the root (`..`, absolute) is refused. The
 * root and its folders must exist: a target never creates folders (a missing remote folder is a setup error the
 * user must see, not something to paper over). Every failure is an EdcError (IO_FAILED, or SFTP_FAILED over SFTP).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path/posix';
import { EdcError } from '../../../shared/errors.ts';

/** A regular file directly in a listed folder. Folders, links, pipes and devices are never listed. */
export interface TargetEntry {
  name: string;
  size: number;
}

export interface TargetDescription {
  kind: 'folder' | 'sftp' | 'memory';
  /** Where it is, for people: `user@host:/dir`, a folder path, `memory:`. */
  where: string;
  /**
   * Whether what is read from it comes from the receiver it names: true over SFTP (the pinned host key authenticates
   * the server); false for a folder (a stick anyone could have written). Receipts are believed accordingly.
   */
  authenticated: boolean;
}

/** What to put: bytes, or a local file (streamed, never read whole into memory). */
export type PutSource = Buffer | { file: string };

export interface FileTarget {
  describe(): TargetDescription;
  /** Regular files directly in `dir` ('' is the root), hidden ones included; [] when the folder does not exist. */
  list(dir: string): Promise<TargetEntry[]>;
  /** A regular file's bytes; refused (IO_FAILED) when missing, not a regular file, or larger than maxBytes. */
  read(file: string, maxBytes: number): Promise<Buffer>;
  /**
   * Atomically: written under a temporary name in the same folder (`.<name>.part`), its size (and, where the driver
   * reads it back cheaply, its sha256) checked against the source, then renamed over `file`. Readers never see a
   * partial file under the final name; a failure leaves at most the temporary file. Returns what was written.
   */
  put(file: string, source: PutSource): Promise<{ size: number; sha256: string }>;
  /** Whether anything (file or folder) has this name. */
  exists(file: string): Promise<boolean>;
  /** A regular file's size, or null when there is none of that name. */
  stat(file: string): Promise<{ size: number } | null>;
  /** Removes a file; nothing to remove is not an error. */
  remove(file: string): Promise<void>;
  /** Ends the connection (SFTP); a no-op elsewhere. */
  close(): Promise<void>;
}

/** `rel` checked to stay inside the root; returns it normalised ('' for the root). */
export function safeRelative(rel: string): string {
  const norm = path.normalize(rel.replace(/\\/g, '/') || '.');
  if (path.isAbsolute(norm) || norm === '..' || norm.startsWith('../')) throw new EdcError('IO_FAILED', `${rel}: the path leaves the target's folder`);
  return norm === '.' ? '' : norm;
}

/** The temporary name put() writes before the rename. */
export function partName(rel: string): string {
  const dir = path.dirname(rel);
  return `${dir === '.' ? '' : `${dir}/`}.${path.basename(rel)}.part`;
}

export async function describeSource(source: PutSource): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  if (Buffer.isBuffer(source)) {
    h.update(source);
    size = source.length;
  } else {
    try {
      for await (const chunk of createReadStream(source.file)) {
        h.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    } catch (cause) {
      throw new EdcError('IO_FAILED', `cannot read ${source.file}`, { cause });
    }
  }
  return { size, sha256: h.digest('hex') };
}
