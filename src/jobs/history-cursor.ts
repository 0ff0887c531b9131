import { createHash } from 'node:crypto';
import { AppError } from '../contract/index.js';
import { JOB_ID_PATTERN } from './new-job-id.js';

/** The filters a cursor belongs to: a cursor from one list is refused by another. */
export interface CursorScope {
  jobType?: string | undefined;
  statuses?: readonly string[] | undefined;
  q?: string | undefined;
  /** Which list (`admin`: every owner's jobs); absent for a user's own history. */
  list?: string | undefined;
  /** The admin list's owner filter. */
  owner?: string | undefined;
}

function scopeTag(scope: CursorScope): string {
  const fields: unknown[] = [scope.jobType ?? '', [...(scope.statuses ?? [])].sort(), scope.q ?? ''];
  // Only when given, so the cursors of a user's history keep the tag they always had.
  if (scope.list !== undefined) fields.push(scope.list, scope.owner ?? '');
  const canonical = JSON.stringify(fields);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 8);
}

/** Opaque to clients: base64url of the position (last job id) and the filters it belongs to. */
export function encodeHistoryCursor(after: string, scope: CursorScope): string {
  return Buffer.from(JSON.stringify({ v: 1, a: after, s: scopeTag(scope) })).toString('base64url');
}

export function decodeHistoryCursor(cursor: string, scope: CursorScope): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('CURSOR_INVALID');
  }
  const { v, a, s } = (parsed ?? {}) as { v?: unknown; a?: unknown; s?: unknown };
  if (v !== 1 || typeof a !== 'string' || !JOB_ID_PATTERN.test(a)) throw new AppError('CURSOR_INVALID');
  if (s !== scopeTag(scope)) {
    throw new AppError(
      'CURSOR_INVALID',
      'The cursor belongs to a list with other filters; start from the first page.',
    );
  }
  return a;
}
