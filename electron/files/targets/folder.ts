/**
 * A local folder as a file target: a USB stick, a mounted share. Only regular files are listed and read (a link to
 * /dev/zero or out of the folder, a pipe or a device planted on a stick is never followed); the temporary file is
 * created afresh (O_EXCL, so a link planted under its name is never written through), flushed, its size and sha256
 * checked, then renamed over the final name.
 */
import { closeSync, constants as fsConstants, copyFileSync, existsSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { EdcError, isEdcError } from '../../../shared/errors.ts';
import { readRegular } from '../import.ts';
import { describeSource, partName, safeRelative, type FileTarget, type PutSource, type TargetDescription, type TargetEntry } from './target.ts';

export class FolderTarget implements FileTarget {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  describe(): TargetDescription {
    return { kind: 'folder', where: this.root, authenticated: false };
  }

  private at(rel: string): string {
    return path.join(this.root, safeRelative(rel));
  }

  async list(dir: string): Promise<TargetEntry[]> {
    const full = this.at(dir);
    if (!existsSync(full)) return [];
    try {
      return readdirSync(full, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => ({ name: d.name, size: lstatSync(path.join(full, d.name)).size }));
    } catch (cause) {
      throw new EdcError('IO_FAILED', `cannot list ${full}`, { cause });
    }
  }

  async read(file: string, maxBytes: number): Promise<Buffer> {
    const read = readRegular(this.at(file), 'file', maxBytes);
    if ('reason' in read) throw new EdcError('IO_FAILED', `${file}: ${read.reason}`);
    return read.data;
  }

  async put(file: string, source: PutSource): Promise<{ size: number; sha256: string }> {
    const final = this.at(file);
    const tmp = this.at(partName(safeRelative(file)));
    try {
      const want = await describeSource(source);
      rmSync(tmp, { force: true });
      if (Buffer.isBuffer(source)) {
        const fd = openSync(tmp, 'wx', 0o600);
        try {
          writeSync(fd, source);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } else {
        copyFileSync(source.file, tmp, fsConstants.COPYFILE_EXCL);
        const fd = openSync(tmp, 'r+');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      const got = await describeSource({ file: tmp });
      if (got.size !== want.size) throw new EdcError('IO_FAILED', `${file}: wrote ${got.size} bytes of ${want.size}`);
      if (got.sha256 !== want.sha256) throw new EdcError('IO_FAILED', `${file}: the copy's sha256 differs from the source's`);
      renameSync(tmp, final);
      return want;
    } catch (e) {
      rmSync(tmp, { force: true });
      throw isEdcError(e) ? e : new EdcError('IO_FAILED', `cannot write ${final}: ${(e as Error).message}`, { cause: e });
    }
  }

  async exists(file: string): Promise<boolean> {
    try {
      lstatSync(this.at(file));
      return true;
    } catch {
      return false;
    }
  }

  async stat(file: string): Promise<{ size: number } | null> {
    try {
      const st = lstatSync(this.at(file));
      return st.isFile() ? { size: st.size } : null;
    } catch {
      return null;
    }
  }

  async remove(file: string): Promise<void> {
    const full = this.at(file);
    try {
      if (existsSync(full) && statSync(full).isDirectory()) throw new EdcError('IO_FAILED', `${full} is a folder`);
      unlinkSync(full);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw isEdcError(e) ? e : new EdcError('IO_FAILED', `cannot remove ${full}`, { cause: e });
    }
  }

  async close(): Promise<void> {}
}
