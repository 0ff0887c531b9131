import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectInputFiles } from './collect-input-files.js';
import { createInputPathFilter } from './input-path-filter.js';
import { clashingRelativePaths, outputStems } from './output-names.js';

describe('createInputPathFilter', () => {
  it('takes every file when no pattern is given', () => {
    expect(createInputPathFilter([], [])('deep/down/talk.mp3')).toBe(true);
  });

  it('matches a pattern without a slash against the file name at any depth', () => {
    const pdfs = createInputPathFilter(['*.pdf'], []);
    expect(pdfs('book.pdf')).toBe(true);
    expect(pdfs('vol 1/ch 2/book.pdf')).toBe(true);
    expect(pdfs('vol 1/talk.mp3')).toBe(false);
    // Case matters, as on the disks this runs on.
    expect(pdfs('BOOK.PDF')).toBe(false);
  });

  it('matches a pattern with a slash against the whole relative path', () => {
    const scans = createInputPathFilter(['scans/**'], []);
    expect(scans('scans/a/b.png')).toBe(true);
    expect(scans('other/scans/b.png')).toBe(false);
  });

  it('lets exclusions win over inclusions, and accepts several of each', () => {
    const filter = createInputPathFilter(['*.pdf', '*.{wav,mp3}'], ['drafts/**', '*-old.*']);
    expect(filter('talks/a.wav')).toBe(true);
    expect(filter('book.pdf')).toBe(true);
    expect(filter('drafts/book.pdf')).toBe(false);
    expect(filter('talks/a-old.mp3')).toBe(false);
    expect(filter('notes.txt')).toBe(false);
  });
});

describe('collectInputFiles', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dt-collect-'));
    await mkdir(path.join(dir, 'tree/b/c'), { recursive: true });
    await mkdir(path.join(dir, 'tree/.git'), { recursive: true });
    await mkdir(path.join(dir, 'tree/out'), { recursive: true });
    for (const file of [
      'tree/a.pdf',
      'tree/b/c/d.wav',
      'tree/b/e.txt',
      'tree/.DS_Store',
      'tree/.git/HEAD',
      'tree/out/a.txt',
      'loose.png',
    ]) {
      await writeFile(path.join(dir, file), file);
    }
    await symlink(path.join(dir, 'tree/b'), path.join(dir, 'tree/link-to-b'));
    await symlink(path.join(dir, 'loose.png'), path.join(dir, 'tree/link.png'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('walks folders in name order, names files relative to the folder given, and skips hidden entries, the output folder and linked folders', async () => {
    const files = await collectInputFiles([path.join(dir, 'tree'), path.join(dir, 'loose.png')], {
      filter: () => true,
      skip: [path.join(dir, 'tree/out')],
    });
    expect(files.map((file) => file.relativePath)).toEqual([
      'a.pdf',
      'b/c/d.wav',
      'b/e.txt',
      'link.png',
      'loose.png',
    ]);
  });

  it('applies the filter to files found in folders, not to files named directly', async () => {
    const files = await collectInputFiles([path.join(dir, 'tree'), path.join(dir, 'loose.png')], {
      filter: createInputPathFilter(['*.wav'], []),
      skip: [],
    });
    expect(files.map((file) => file.relativePath)).toEqual(['b/c/d.wav', 'loose.png']);
  });

  it('refuses a path that does not exist', async () => {
    await expect(
      collectInputFiles([path.join(dir, 'nope')], { filter: () => true, skip: [] }),
    ).rejects.toThrow(/no such file or folder/);
  });
});

describe('outputStems', () => {
  it('drops the extension, unless two files of one folder share a stem', () => {
    const stems = outputStems(['a/talk.wav', 'a/talk.mp3', 'a/book.pdf', 'b/talk.wav', 'README']);
    expect(Object.fromEntries(stems)).toEqual({
      'a/talk.wav': 'a/talk.wav',
      'a/talk.mp3': 'a/talk.mp3',
      'a/book.pdf': 'a/book',
      'b/talk.wav': 'b/talk',
      README: 'README',
    });
  });

  it('names inputs whose results would overwrite each other', () => {
    expect(clashingRelativePaths(['x.pdf', 'y.pdf', 'x.pdf'])).toEqual(['x.pdf']);
  });
});
