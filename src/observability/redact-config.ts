const REDACTED = '[redacted]';
/**
 * Property names whose string values are secrets wherever they sit in the configuration. Anchored
 * at the end so counts and switches such as `maxOutputTokens` or `allowCredentials` stay visible.
 */
const SECRET_NAME = /(api_?key|token|secret|password|passphrase|private_?key|credentials?)$/i;
/** Query parameters that carry credentials in URLs (`?key=` for Gemini-style endpoints, signed URLs). */
const SECRET_PARAM = /^(key|api_?key|token|access_token|secret|password|sig|signature|x-amz-signature)$/i;

/**
 * A copy of the configuration safe to log at start (`config.loaded`): secret-named values, URL
 * passwords and secret query parameters, and anything that looks like a PEM private key are
 * replaced by `[redacted]`; everything else is kept so the dump says what the process runs with.
 */
export function redactConfig(value: unknown, name = ''): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') {
    if (SECRET_NAME.test(name)) return REDACTED;
    return redactString(value);
  }
  if (Array.isArray(value)) return value.map((item) => redactConfig(item, name));
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, redactConfig(item, key)]),
    );
  }
  return value;
}

function redactString(value: string): string {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) return REDACTED;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  let changed = false;
  if (url.password) {
    url.password = REDACTED;
    changed = true;
  }
  if (url.username && url.password === '') {
    // `redis://secret@host`: a lone user part is Redis's password form.
    url.username = REDACTED;
    changed = true;
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) {
      url.searchParams.set(key, REDACTED);
      changed = true;
    }
  }
  return changed ? url.toString() : value;
}
