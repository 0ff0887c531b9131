import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { ObjectStorage } from '../../storage/object-storage.js';

export const pageResultSchema = z.object({
  page: z.number().int().positive(),
  source: z.enum(['text_layer', 'ocr', 'none']),
  text: z.string(),
  confidence: z.number().min(0).max(1).nullable(),
  engine: z.string().nullable(),
  /** Why the page went to OCR (or why it has no text): `empty`, `broken`, `devanagari`, `forced`… */
  reason: z.string().optional(),
  languages: z.string().optional(),
  psm: z.string().optional(),
  words: z.number().int().nonnegative().optional(),
  hints: z.array(z.string()),
});
export type PageResult = z.infer<typeof pageResultSchema>;

/** Storage key prefix of a job's OCR checkpoints (inside the job's prefix: deleting the job deletes them). */
export function checkpointPrefix(jobId: string): string {
  return `jobs/${jobId}/checkpoints/ocr/`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/**
 * Finished OCR pages of one job, kept in object storage (not in the attempt's scratch directory nor
 * in Redis), so a retried or recovered attempt, on any worker, skips them. One object per page:
 * its result, and its searchable-PDF layer when there is one.
 */
export class PageCheckpoints {
  private readonly prefix: string;

  constructor(
    private readonly storage: ObjectStorage,
    jobId: string,
  ) {
    this.prefix = checkpointPrefix(jobId);
  }

  private key(page: number, ext: 'json' | 'pdf' | 'hocr'): string {
    return `${this.prefix}page-${String(page).padStart(6, '0')}.${ext}`;
  }

  async load(page: number): Promise<PageResult | null> {
    const key = this.key(page, 'json');
    if (!(await this.storage.exists(key))) return null;
    const parsed = pageResultSchema.safeParse(
      JSON.parse((await readAll(await this.storage.get(key))).toString('utf8')),
    );
    return parsed.success && parsed.data.page === page ? parsed.data : null;
  }

  /** Saves the artefacts first, then the result: a result present means its artefacts are too. */
  async save(result: PageResult, artefacts: { pdfPath?: string; hocrPath?: string } = {}): Promise<void> {
    if (artefacts.pdfPath)
      await this.storage.put(this.key(result.page, 'pdf'), createReadStream(artefacts.pdfPath));
    if (artefacts.hocrPath)
      await this.storage.put(this.key(result.page, 'hocr'), createReadStream(artefacts.hocrPath));
    await this.storage.put(this.key(result.page, 'json'), JSON.stringify(result));
  }

  /** Copies a checkpointed artefact to a local file; false when the page has none. */
  async restore(page: number, ext: 'pdf' | 'hocr', filePath: string): Promise<boolean> {
    const key = this.key(page, ext);
    if (!(await this.storage.exists(key))) return false;
    await this.storage.download(key, filePath);
    return true;
  }

  async clear(): Promise<void> {
    await this.storage.deletePrefix(this.prefix);
  }
}
