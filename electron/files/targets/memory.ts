/**
 * An in-memory file target, for tests and as the contract's reference: files and folders in maps, the same
 * temporary-name-then-rename put as the real drivers. `folders` are the folders that exist besides the root.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path/posix';
import { EdcError } from '../../../shared/errors.ts';
import { describeSource, partName, safeRelative, type FileTarget, type PutSource, type TargetDescription, type TargetEntry } from './target.ts';

export class MemoryTarget implements FileTarget {
  readonly files = new Map<string, Buffer>();
  private readonly folders = new Set<string>(['']);
  private readonly authenticated: boolean;

  constructor(opts: { folders?: string[]; authenticated?: boolean } = {}) {
    for (const f of opts.folders ?? []) this.mkdir(f);
    this.authenticated = opts.authenticated ?? false;
  }

  describe(): TargetDescription {
    return { kind: 'memory', where: 'memory:', authenticated: this.authenticated };
  }

  /** Test set-up: a folder (and its parents) that exists. */
  mkdir(dir: string): void {
    const rel = safeRelative(dir);
    for (let d = rel; d !== '.' && d !== ''; d = path.dirname(d)) this.folders.add(d);
  }

  async list(dir: string): Promise<TargetEntry[]> {
    const rel = safeRelative(dir);
    return [...this.files].filter(([name]) => parent(name) === rel).map(([name, data]) => ({ name: path.basename(name), size: data.length }));
  }

  async read(file: string, maxBytes: number): Promise<Buffer> {
    const data = this.files.get(safeRelative(file));
    if (!data) throw new EdcError('IO_FAILED', `${file}: the file is missing`);
    if (data.length > maxBytes) throw new EdcError('IO_FAILED', `${file}: ${data.length} bytes, more than ${maxBytes}`);
    return Buffer.from(data);
  }

  async put(file: string, source: PutSource): Promise<{ size: number; sha256: string }> {
    const rel = safeRelative(file);
    if (!this.folders.has(parent(rel))) throw new EdcError('IO_FAILED', `${file}: the folder ${parent(rel) || '/'} does not exist`);
    if (this.folders.has(rel)) throw new EdcError('IO_FAILED', `${file} is a folder`);
    const want = await describeSource(source);
    const tmp = partName(rel);
    this.files.set(tmp, Buffer.isBuffer(source) ? Buffer.from(source) : await readAll(source.file));
    const got = await describeSource(this.files.get(tmp)!);
    if (got.size !== want.size || got.sha256 !== want.sha256) throw new EdcError('IO_FAILED', `${file}: the copy differs from the source`);
    this.files.set(rel, this.files.get(tmp)!);
    this.files.delete(tmp);
    return want;
  }

  async exists(file: string): Promise<boolean> {
    const rel = safeRelative(file);
    return this.files.has(rel) || this.folders.has(rel);
  }

  async stat(file: string): Promise<{ size: number } | null> {
    const data = this.files.get(safeRelative(file));
    return data ? { size: data.length } : null;
  }

  async remove(file: string): Promise<void> {
    const rel = safeRelative(file);
    if (this.folders.has(rel)) throw new EdcError('IO_FAILED', `${file} is a folder`);
    this.files.delete(rel);
  }

  async close(): Promise<void> {}
}

function parent(rel: string): string {
  const d = path.dirname(rel);
  return d === '.' ? '' : d;
}

async function readAll(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new EdcError('IO_FAILED', `cannot read ${file}`, { cause });
  }
}
