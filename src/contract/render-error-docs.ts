import { ERROR_CATALOG, ERROR_CODES } from './error-catalog.js';

/** docs/errors.md, generated from the catalog (`npm run docs:errors`) so the two never disagree. */
export function renderErrorDocs(): string {
  const rows = ERROR_CODES.map((code) => {
    const e = ERROR_CATALOG[code];
    return `| \`${code}\` | ${e.status} | ${e.retryable ? 'yes' : 'no'} | ${e.errorClass} | ${e.message.en} | ${e.message.hi} |`;
  });
  return [
    '# Error codes',
    '',
    'Generated from `src/contract/error-catalog.ts` by `npm run docs:errors`; do not edit by hand.',
    '',
    'Every non-2xx answer is `application/problem+json` (RFC 9457) carrying `error_code` (one of the codes',
    'below), `request_id`, `retryable` and `message_hi`. Failed jobs carry the same codes in `error_code`.',
    '`GET /v1/contract` serves this catalog as JSON.',
    '',
    '| code | HTTP | retryable | class | message | संदेश |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
