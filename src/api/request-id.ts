import { randomUUID } from 'node:crypto';

const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The caller's `X-Request-ID` when it is a plain token of at most 128 characters; otherwise a
 * new one, so a hostile header can never inject text into logs or responses.
 */
export function resolveRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTED_REQUEST_ID.test(value) ? value : randomUUID();
}
