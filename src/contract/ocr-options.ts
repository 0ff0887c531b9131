import { z } from 'zod';

/** Where a page's text may come from: its PDF text layer, or OCR of its rendered image. */
export const OCR_POLICIES = ['auto', 'force_ocr', 'text_only'] as const;
export type OcrPolicy = (typeof OCR_POLICIES)[number];

/** OCR engines a job may ask for. */
export const OCR_ENGINES = ['tesseract', 'gemini'] as const;
export type OcrEngineName = (typeof OCR_ENGINES)[number];

/** Tesseract page segmentation: `auto` reads in psm 3 and retries a weak page in psm 6. */
export const OCR_PSM_MODES = ['auto', '3', '4', '6', '11'] as const;
export type OcrPsmMode = (typeof OCR_PSM_MODES)[number];

/** Most pages a cloud engine is sent in one request (answers grow with pages; MAX_TOKENS comes sooner). */
export const OCR_MAX_BATCH_PAGES = 20;

/** Per-job OCR options, as stored on the job and echoed back; absent ones take the configured defaults. */
export const ocrOptionsSchema = z.object({
  policy: z.enum(OCR_POLICIES).optional(),
  engine: z.enum(OCR_ENGINES).optional(),
  dpi: z.number().int().min(72).max(600).optional(),
  psm: z.enum(OCR_PSM_MODES).optional(),
  /** Cloud engines: pages sent in one request. */
  batch_pages: z.number().int().min(1).max(OCR_MAX_BATCH_PAGES).optional(),
});
export type OcrOptions = z.infer<typeof ocrOptionsSchema>;

/** How many pages of an OCR job came from each source. */
export const pagesBySourceSchema = z.object({
  text_layer: z.number().int().nonnegative(),
  ocr: z.number().int().nonnegative(),
  /** Pages left without text: `text_only` pages with no text layer, pages that could not be rendered. */
  none: z.number().int().nonnegative(),
});
export type PagesBySource = z.infer<typeof pagesBySourceSchema>;

/** Multipart fields of `POST /v1/jobs` that set OCR options (all optional strings on the wire). */
export const ocrSubmitFieldsShape = {
  ocr_policy: z.enum(OCR_POLICIES).optional(),
  ocr_engine: z.enum(OCR_ENGINES).optional(),
  ocr_dpi: z.coerce.number().int().min(72).max(600).optional(),
  ocr_psm: z.enum(OCR_PSM_MODES).optional(),
  ocr_batch_pages: z.coerce.number().int().min(1).max(OCR_MAX_BATCH_PAGES).optional(),
};

/** The stored options of a submission, or undefined when it named none. */
export function ocrOptionsFromFields(fields: {
  ocr_policy?: OcrPolicy | undefined;
  ocr_engine?: OcrEngineName | undefined;
  ocr_dpi?: number | undefined;
  ocr_psm?: OcrPsmMode | undefined;
  ocr_batch_pages?: number | undefined;
}): OcrOptions | undefined {
  const options: OcrOptions = {};
  if (fields.ocr_policy) options.policy = fields.ocr_policy;
  if (fields.ocr_engine) options.engine = fields.ocr_engine;
  if (fields.ocr_dpi) options.dpi = fields.ocr_dpi;
  if (fields.ocr_psm) options.psm = fields.ocr_psm;
  if (fields.ocr_batch_pages) options.batch_pages = fields.ocr_batch_pages;
  return Object.keys(options).length > 0 ? options : undefined;
}
