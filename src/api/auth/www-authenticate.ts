import type { ErrorCode } from '../../contract/index.js';

const REALM = 'doc-transcribe';

/**
 * The `WWW-Authenticate` challenge of an auth refusal (RFC 6750 §3): plain for a request without
 * credentials, `invalid_token` for a refused token or key, `insufficient_scope` for a known caller
 * without the right; none for other codes.
 */
export function wwwAuthenticateFor(code: ErrorCode, status: number): string | null {
  if (code === 'AUTH_REQUIRED') return `Bearer realm="${REALM}"`;
  if (status === 401 && code.startsWith('AUTH_')) return `Bearer realm="${REALM}", error="invalid_token"`;
  if (status === 403 && code.startsWith('AUTH_'))
    return `Bearer realm="${REALM}", error="insufficient_scope"`;
  return null;
}
