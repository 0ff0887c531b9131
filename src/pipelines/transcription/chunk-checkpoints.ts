import { z } from 'zod';
import type { ObjectStorage } from '../../storage/object-storage.js';

const wordSchema = z.object({
  start: z.number(),
  end: z.number(),
  text: z.string(),
  confidence: z.number().optional(),
});

const chunkResultSchema = z.object({
  index: z.number().int().nonnegative(),
  /** Segments on the recording's clock, after the repetition guard. */
  segments: z.array(
    z.object({
      start: z.number(),
      end: z.number(),
      text: z.string(),
      confidence: z.number().optional(),
      words: z.array(wordSchema).optional(),
      repetitionCollapsed: z.boolean().optional(),
    }),
  ),
  rerun: z.boolean(),
  collapsed: z.number().int().nonnegative(),
});
export type ChunkResult = z.infer<typeof chunkResultSchema>;

const planSchema = z.object({ fingerprint: z.string() });

/** Storage key prefix of a job's transcription checkpoints (inside the job's prefix: deleting the job deletes them). */
export function chunkCheckpointPrefix(jobId: string): string {
  return `jobs/${jobId}/checkpoints/transcription/`;
}

async function readJson(storage: ObjectStorage, key: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.get(key))
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

/**
 * Finished chunks of one job, one object each in object storage (not the attempt's scratch
 * directory, not Redis), so a retried or recovered job skips them on whichever worker picks it up.
 * A fingerprint of the audio, the chunk plan and the engine guards against reusing results that
 * no longer fit. Storage writes are atomic, so a half-written chunk cannot be read back.
 */
export class ChunkCheckpoints {
  private readonly prefix: string;

  constructor(
    private readonly storage: ObjectStorage,
    jobId: string,
  ) {
    this.prefix = chunkCheckpointPrefix(jobId);
  }

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Loads the chunks (of `chunkCount`) finished under the same fingerprint; starts afresh otherwise. */
  async open(fingerprint: string, chunkCount: number): Promise<Map<number, ChunkResult>> {
    const found = new Map<number, ChunkResult>();
    const plan = (await this.storage.exists(this.key('plan.json')))
      ? planSchema.safeParse(await readJson(this.storage, this.key('plan.json')).catch(() => null))
      : null;
    if (plan?.success && plan.data.fingerprint === fingerprint) {
      for (let index = 0; index < chunkCount; index++) {
        const key = this.key(chunkName(index));
        if (!(await this.storage.exists(key))) continue;
        // An unreadable checkpoint is simply redone.
        const parsed = chunkResultSchema.safeParse(await readJson(this.storage, key).catch(() => null));
        if (parsed.success && parsed.data.index === index) found.set(index, parsed.data);
      }
      return found;
    }
    await this.storage.deletePrefix(this.prefix);
    await this.storage.put(this.key('plan.json'), JSON.stringify({ fingerprint }));
    return found;
  }

  async save(result: ChunkResult): Promise<void> {
    await this.storage.put(this.key(chunkName(result.index)), JSON.stringify(result));
  }

  async remove(): Promise<void> {
    await this.storage.deletePrefix(this.prefix);
  }
}

const chunkName = (index: number) => `chunk-${String(index).padStart(5, '0')}.json`;
