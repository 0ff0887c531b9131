import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './exit-codes.js';

export interface InputFile {
  absolutePath: string;
  /** Relative to the folder it was found in (with `/`), or the file name for a file named directly. */
  relativePath: string;
}

export class InputSelectionError extends UsageError {}

export interface CollectOptions {
  /** Applied to files found in folders; files named on the command line are always taken. */
  filter: (relativePath: string) => boolean;
  /** Absolute paths never collected (the output folder and the state file). */
  skip: readonly string[];
}

/**
 * Files named directly and every file below the folders named, depth first in name order.
 * Hidden entries (`.DS_Store`, `.git/`) and symbolic links to folders are not followed.
 */
export async function collectInputFiles(
  args: readonly string[],
  options: CollectOptions,
): Promise<InputFile[]> {
  const skip = new Set(await Promise.all(options.skip.map((p) => realpath(p).catch(() => path.resolve(p)))));
  const files: InputFile[] = [];
  const seen = new Set<string>();
  const add = (file: InputFile) => {
    if (seen.has(file.absolutePath)) return;
    seen.add(file.absolutePath);
    files.push(file);
  };
  for (const arg of args) {
    const absolute = path.resolve(arg);
    const info = await stat(absolute).catch(() => null);
    if (!info) throw new InputSelectionError(`${arg}: no such file or folder`);
    if (info.isFile()) add({ absolutePath: await realpath(absolute), relativePath: path.basename(absolute) });
    else if (info.isDirectory()) await walk(await realpath(absolute), '', options.filter, skip, add);
    else throw new InputSelectionError(`${arg}: not a regular file or folder`);
  }
  return files;
}

async function walk(
  root: string,
  relativeDir: string,
  filter: (relativePath: string) => boolean,
  skip: ReadonlySet<string>,
  add: (file: InputFile) => void,
): Promise<void> {
  const dir = path.join(root, relativeDir);
  if (skip.has(dir)) return;
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const relativePath = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
    const absolutePath = path.join(root, relativePath);
    if (entry.isDirectory()) {
      await walk(root, relativePath, filter, skip, add);
      continue;
    }
    const isFile =
      entry.isFile() || (entry.isSymbolicLink() && (await stat(absolutePath).catch(() => null))?.isFile());
    if (isFile && !skip.has(absolutePath) && filter(relativePath)) add({ absolutePath, relativePath });
  }
}
