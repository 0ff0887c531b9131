import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ObjectMeter } from './object-meter.js';
import type { ObjectStorage, PutOptions, StoredObject } from './object-storage.js';

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** Object storage on the local disk: each key is a file under `rootDir`, written via a temp file and rename. */
export class LocalDiskStorage implements ObjectStorage {
  readonly driver = 'local';

  constructor(private readonly rootDir: string) {}

  private pathOf(key: string): string {
    if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
      throw new Error(`invalid storage key: ${key}`);
    }
    return path.join(this.rootDir, key);
  }

  async put(key: string, body: Readable | Buffer | string, options: PutOptions = {}): Promise<StoredObject> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${randomUUID()}.partial`;
    const meter = new ObjectMeter(options.maxBytes);
    const source =
      typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
    try {
      await pipeline(source, meter, createWriteStream(temp, { flags: 'wx' }));
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await this.removeAbandonedTempFiles(target);
    return meter.result();
  }

  /**
   * Temp files of the same key left by writers that died mid-write (a worker killed with SIGKILL):
   * once the object is in place they can only be garbage. A run still writing one is a superseded
   * run, whose rename then fails and whose outputs are not wanted.
   */
  private async removeAbandonedTempFiles(target: string): Promise<void> {
    const prefix = `${path.basename(target)}.`;
    const siblings = await readdir(path.dirname(target)).catch(() => [] as string[]);
    for (const name of siblings) {
      if (name.startsWith(prefix) && name.endsWith('.partial')) {
        await rm(path.join(path.dirname(target), name), { force: true });
      }
    }
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    await stat(file);
    return createReadStream(file);
  }

  async download(key: string, filePath: string): Promise<void> {
    await copyFile(this.pathOf(key), filePath);
  }

  /** Local files have no URL of their own: the API streams them. */
  async signedDownloadUrl(): Promise<string | null> {
    return null;
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch {
      return false;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix.replace(/\/$/, '')), { recursive: true, force: true });
  }

  async checkWritable(): Promise<void> {
    const probe = path.join(this.rootDir, '.readiness', `${randomUUID()}`);
    await mkdir(path.dirname(probe), { recursive: true });
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
  }
}
