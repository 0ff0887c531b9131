import { z } from 'zod';
import { submitJobFieldsSchema } from './job.js';

/**
 * Resumable uploads (tus 1.0 in spirit: core, creation, termination, expiration; docs/api.md).
 * `POST /v1/uploads` declares the file; `PATCH /v1/uploads/:id` appends bytes at `Upload-Offset`;
 * `POST /v1/jobs` with `{upload_id, …fields}` makes the job from the complete upload.
 */
export * from './resumable-upload-protocol.js';

export const createUploadBodySchema = z.object({
  filename: z.string().min(1).max(4096).describe('The file name the job will show (cleaned as uploads are)'),
  size: z.number().int().positive().describe('The exact size in bytes the upload will have'),
  mime: z.string().max(200).optional().describe('What the client believes the type is (advice only)'),
});
export type CreateUploadBody = z.infer<typeof createUploadBodySchema>;

export const uploadSessionSchema = z.object({
  upload_id: z.string(),
  filename: z.string(),
  size: z.number().int().positive(),
  offset: z.number().int().nonnegative().describe('Bytes stored so far; send the next PATCH from here'),
  expires_at: z.string().describe('After this the session and its bytes are removed'),
});
export type UploadSessionView = z.infer<typeof uploadSessionSchema>;

/**
 * `POST /v1/jobs` as JSON: a complete upload and the same job fields the multipart form takes
 * (JSON numbers and booleans are read as the form's strings would be).
 */
export const submitFromUploadBodySchema = submitJobFieldsSchema.extend({
  upload_id: z.string().describe('A complete upload (POST /v1/uploads)'),
});
