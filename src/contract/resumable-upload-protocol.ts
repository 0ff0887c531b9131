/**
 * The zod-free constants of resumable uploads, shared by the API and the page (docs/api.md).
 * The page sends files above RESUMABLE_UPLOAD_THRESHOLD_BYTES through an upload session in
 * PATCHes of UPLOAD_CHUNK_BYTES; smaller files go in one multipart request.
 */
export const RESUMABLE_UPLOAD_THRESHOLD_BYTES = 8 * 1024 * 1024;
export const UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;
export const UPLOAD_OFFSET_HEADER = 'upload-offset';
export const UPLOAD_EXPIRES_HEADER = 'upload-expires';
/** The only body type a PATCH takes (tus). */
export const UPLOAD_PATCH_CONTENT_TYPE = 'application/offset+octet-stream';
