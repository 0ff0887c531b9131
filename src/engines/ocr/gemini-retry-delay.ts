/**
 * The wait a Gemini 429 asks for, in ms, from the `google.rpc.RetryInfo` detail of its JSON error
 * body (the SDK's ApiError carries that body, serialised, as its message): `"retryDelay": "23s"`.
 * Undefined when the answer has none.
 */
export function geminiRetryDelayMs(errorBody: string): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(errorBody);
  } catch {
    // Not a JSON error body (a proxy's HTML page, say): no retry hint to honour.
    return undefined;
  }
  const details = (parsed as { error?: { details?: unknown } } | null)?.error?.details;
  if (!Array.isArray(details)) return undefined;
  for (const detail of details as Array<Record<string, unknown>>) {
    if (typeof detail?.['@type'] !== 'string' || !detail['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const delay = detail.retryDelay;
    const match = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null;
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  return undefined;
}
