import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/contract/index.js';
import { startTestService, type TestService } from '../helpers/test-service.js';
import { TINY_PNG, tinyWav } from '../helpers/tiny-files.js';

/**
 * Random multipart bodies and headers against the two intake routes: whatever arrives, the answer
 * is never a 5xx, and every refusal is a problem document with a catalog code. Runs are bounded
 * (and seeded by fast-check, which prints the seed of a failure) so the file stays well under 60 s.
 */
let svc: TestService;
const RUNS = 120;
const CODES = new Set<string>(ERROR_CODES);

beforeAll(async () => {
  svc = await startTestService('upload-fuzz', { SERVICE_ROLE: 'api', UPLOAD_MAX_BYTES: '65536' });
});
afterAll(async () => {
  await svc?.close();
});

const FIELD_NAMES = [
  'job_type',
  'content_subtype',
  'language',
  'callback_url',
  'ocr_policy',
  'ocr_engine',
  'ocr_dpi',
  'ocr_psm',
  'ocr_batch_pages',
  'chunk_sec',
  'chunk_overlap_sec',
  'chunks_in_flight',
  'txt_timestamps',
  'file',
];
// No host names: a callback URL is resolved, and fuzzing DNS is not the point.
const FIELD_VALUES = fc.oneof(
  fc.constantFrom('OCR', 'TRANSCRIPTION', 'general', 'hin+eng', 'en', '300', '-1', '1e309', 'true', 'NaN'),
  fc.constantFrom('http://127.0.0.1:1/x', 'https://[::1]/', 'javascript:alert(1)', '', ' '),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ minLength: 1000, maxLength: 3000 }),
);
const FILE_BYTES = fc.oneof(
  fc.constant(TINY_PNG),
  fc.constant(tinyWav(200)),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.concat([Buffer.from('%PDF-1.4\n'), bytes])),
  fc.constant(Buffer.alloc(70_000, 1)),
);
const FILENAMES = fc.oneof(
  fc.constantFrom('scan.png', 'talk.wav', '../../x.pdf', 'a"b.png', 'क.jpg', ''),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);
const header = (value: fc.Arbitrary<string>) => value.filter((v) => /^[\t\x20-\x7e]*$/.test(v));
const HEADERS = fc.record(
  {
    'idempotency-key': header(fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('"k1"', 'k1', ''))),
    'x-request-id': header(fc.string({ maxLength: 200 })),
    'content-type': header(
      fc.constantFrom(
        'multipart/form-data',
        'multipart/form-data; boundary=',
        'multipart/form-data; boundary="unterminated',
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
      ),
    ),
    accept: fc.constantFrom('application/json', '*/*', 'text/html', ''),
  },
  { requiredKeys: [] },
);

interface Part {
  name: string;
  filename: string | null;
  value: string;
  bytes: Buffer | null;
}
const PART = fc.record({
  name: fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 20 })),
  filename: fc.option(FILENAMES, { nil: null }),
  value: FIELD_VALUES,
  bytes: fc.option(FILE_BYTES, { nil: null }),
});

function multipartBody(parts: Part[], boundary: string, truncate: boolean): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      part.filename === null
        ? `form-data; name="${part.name}"`
        : `form-data; name="${part.name}"; filename="${part.filename}"`;
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: ${disposition}\r\n\r\n`));
    chunks.push(part.bytes && part.filename !== null ? part.bytes : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const body = Buffer.concat(chunks);
  return truncate ? body.subarray(0, Math.floor(body.length / 2)) : body;
}

async function expectCatalogAnswer(response: Response, what: string): Promise<void> {
  const text = await response.text();
  expect(response.status, `${what}: ${text.slice(0, 300)}`).toBeLessThan(500);
  if (response.status >= 400) {
    const problem = JSON.parse(text) as { error_code?: string };
    expect(CODES.has(problem.error_code ?? ''), `${what}: ${text.slice(0, 300)}`).toBe(true);
  }
}

describe('fuzzing the intake routes', () => {
  it('POST /v1/jobs: random multipart fields, files, names and headers never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(PART, { maxLength: 6 }),
        HEADERS,
        fc.boolean(),
        fc.boolean(),
        async (parts, headers, truncate, ownContentType) => {
          const boundary = 'fuzzBoundary7MA4YWxk';
          const body = multipartBody(parts, boundary, truncate);
          const contentType = ownContentType
            ? `multipart/form-data; boundary=${boundary}`
            : (headers['content-type'] ?? `multipart/form-data; boundary=${boundary}`);
          const sent: Record<string, string> = { ...headers, 'content-type': contentType };
          const response = await fetch(`${svc.url}/v1/jobs`, {
            method: 'POST',
            body,
            headers: sent,
            // A hang is a finding too: it fails the property with its input instead of the test.
            signal: AbortSignal.timeout(5000),
          });
          await expectCatalogAnswer(
            response,
            `POST /v1/jobs ${JSON.stringify({ parts, headers }).slice(0, 400)}`,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('POST /v1/intake/precheck: random JSON bodies and headers never give a 5xx', async () => {
    const json = fc.oneof(
      fc.record(
        {
          filename: fc.oneof(FILENAMES, fc.integer(), fc.constant(null)),
          size_bytes: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 }), fc.constant(-1)),
          mime: fc.oneof(
            fc.constantFrom('application/pdf', 'audio/wav', 'image/png'),
            fc.string({ maxLength: 30 }),
          ),
          job_type: fc.oneof(fc.constantFrom('OCR', 'TRANSCRIPTION'), fc.string({ maxLength: 10 })),
          page_count: fc.oneof(fc.integer(), fc.double()),
          duration_sec: fc.oneof(fc.integer(), fc.double()),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          json.map((value) => JSON.stringify(value) ?? 'null'),
          fc.string({ maxLength: 200 }),
        ),
        HEADERS,
        async (body, headers) => {
          const response = await fetch(`${svc.url}/v1/intake/precheck`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json', ...headers },
            signal: AbortSignal.timeout(5000),
          });
          await expectCatalogAnswer(response, `precheck ${body.slice(0, 200)} ${JSON.stringify(headers)}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  // Found by this fuzz test: with an Idempotency-Key (or quotas on) the handler awaits Redis before
  // reading the body; busboy meanwhile parses a truncated body to its end and fails the file stream
  // before anyone listens. The upload used to wait for bytes that never came; now it answers 400.
  it('answers a truncated multipart body sent with an Idempotency-Key (once a hang)', async () => {
    const boundary = 'truncatedBoundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`),
      tinyWav(200).subarray(0, 200),
    ]);
    const response = await fetch(`${svc.url}/v1/jobs`, {
      method: 'POST',
      body,
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'idempotency-key': 'truncated',
      },
      signal: AbortSignal.timeout(5000),
    });
    await expectCatalogAnswer(response, 'truncated body with an Idempotency-Key');
  });
});
