/** Errors the client reports: the API's refusals (problem+json) and a server that cannot be reached. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The catalog code (`error_code` of the problem body), or `HTTP_<status>` when the body had none. */
    readonly code: string,
    readonly detail: string,
    readonly requestId: string | null,
    readonly retryable: boolean,
    /** Seconds from `Retry-After`, when the answer carried one. */
    readonly retryAfterSec: number | null = null,
  ) {
    super(`${code}: ${detail}${requestId ? ` (request id ${requestId})` : ''}`);
    this.name = 'ApiError';
  }

  /** 401 and 403: the credentials were missing, wrong, or not enough. */
  get isAuthRefusal(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export class ServerUnreachableError extends Error {
  constructor(
    readonly server: string,
    cause: unknown,
  ) {
    super(`cannot reach ${server}: ${describeCause(cause)}`, { cause });
    this.name = 'ServerUnreachableError';
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? cause.cause : null;
    const code = inner && 'code' in inner ? String(inner.code) : '';
    return code ? `${code} (${inner?.message ?? cause.message})` : (inner?.message ?? cause.message);
  }
  return String(cause);
}

/** Turns a non-2xx answer into an ApiError, reading the problem+json body when there is one. */
export async function apiErrorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's HTML page, say): the status line is all there is.
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return new ApiError(
    response.status,
    typeof body.error_code === 'string' ? body.error_code : `HTTP_${response.status}`,
    typeof body.detail === 'string' ? body.detail : text.slice(0, 200) || response.statusText,
    typeof body.request_id === 'string' ? body.request_id : response.headers.get('x-request-id'),
    body.retryable === true || response.status === 429 || response.status === 503,
    Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null,
  );
}
