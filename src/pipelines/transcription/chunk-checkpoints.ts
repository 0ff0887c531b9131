import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

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
const PLAN_FILE = 'plan.json';
const CHUNK_FILE = /^chunk-(\d{5})\.json$/;

const chunkFile = (index: number) => `chunk-${String(index).padStart(5, '0')}.json`;

/**
 * Finished chunks of one job, one JSON file each, in a directory that outlives the attempt (the
 * worker's scratch directory does not), so a retried or recovered job skips them. A fingerprint of
 * the audio, the chunk plan and the engine guards against reusing results that no longer fit.
 */
export class ChunkCheckpoints {
  constructor(private readonly dir: string) {}

  /** Loads the chunks finished under the same fingerprint; anything else found there is discarded. */
  async open(fingerprint: string): Promise<Map<number, ChunkResult>> {
    const found = new Map<number, ChunkResult>();
    const plan = await readFile(path.join(this.dir, PLAN_FILE), 'utf8')
      .then((text) => planSchema.safeParse(JSON.parse(text)))
      .catch(() => null);
    if (plan?.success && plan.data.fingerprint === fingerprint) {
      for (const name of await readdir(this.dir)) {
        if (!CHUNK_FILE.test(name)) continue;
        const parsed = await readFile(path.join(this.dir, name), 'utf8')
          .then((text) => chunkResultSchema.safeParse(JSON.parse(text)))
          .catch(() => null);
        // A half-written file cannot exist (rename is atomic); an unreadable one is simply redone.
        if (parsed?.success) found.set(parsed.data.index, parsed.data);
      }
      return found;
    }
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
    await this.writeAtomically(PLAN_FILE, JSON.stringify({ fingerprint }));
    return found;
  }

  async save(result: ChunkResult): Promise<void> {
    await this.writeAtomically(chunkFile(result.index), JSON.stringify(result));
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private async writeAtomically(name: string, body: string): Promise<void> {
    const target = path.join(this.dir, name);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, body, 'utf8');
    await rename(temporary, target);
  }
}
