import { readdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestRedis, testKeyPrefix } from '../helpers/test-redis.js';
import { startTestService, type TestService } from '../helpers/test-service.js';
import { TINY_PNG, tinyWav } from '../helpers/tiny-files.js';

const OCR_LIMIT = 200 * 1024 * 1024;
const PREFIX = testKeyPrefix('upload-validation');
let svc: TestService;
let accepted = 0;

beforeAll(async () => {
  // API only: nothing is processed, uploads are judged and stored (or not).
  svc = await startTestService('upload-validation', {
    SERVICE_ROLE: 'api',
    REDIS_KEY_PREFIX: PREFIX,
    UPLOAD_MAX_BYTES: String(3 * 1024 ** 3),
    UPLOAD_MAX_BYTES_OCR: String(OCR_LIMIT),
    UPLOAD_MAX_BYTES_TRANSCRIPTION: '100000',
  });
});
afterAll(async () => {
  await svc?.close();
});

/** A 64-byte ELF header (x86-64 executable), as a renamed program would start. */
const ELF = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
  Buffer.alloc(8),
  Buffer.from([2, 0, 0x3e, 0, 1, 0, 0, 0]),
  Buffer.alloc(40),
]);
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
  'latin1',
);
const JPEG = Buffer.concat([
  Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
  Buffer.alloc(64, 0x20),
  Buffer.from('ffd9', 'hex'),
]);

/** A real ZIP archive with one stored entry: local header, data, central directory, end record. */
function zipOf(name: string, data: Buffer): Buffer {
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc32(data), 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + nameBytes.length, 12);
  end.writeUInt32LE(30 + nameBytes.length + data.length, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}

/**
 * A multipart body written by hand, so file names reach the server exactly as given (FormData
 * would escape some characters itself).
 */
function multipart(
  filename: string,
  bytes: Buffer,
  fields: Record<string, string> = {},
  nameEncoding: BufferEncoding = 'utf8',
) {
  const boundary = `----dt${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
      nameEncoding,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function upload(
  filename: string,
  bytes: Buffer,
  fields: Record<string, string> = {},
  nameEncoding: BufferEncoding = 'utf8',
) {
  const { body, contentType } = multipart(filename, bytes, fields, nameEncoding);
  const response = await fetch(`${svc.url}/v1/jobs`, {
    method: 'POST',
    body,
    headers: { 'content-type': contentType },
  });
  const json = (await response.json()) as {
    error_code?: string;
    detail?: string;
    job_id?: string;
    input_filename?: string;
    warnings?: Array<{ code: string; message: string }>;
  };
  if (response.status === 201) accepted += 1;
  return { status: response.status, json };
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
  } catch {
    return [];
  }
}

describe('extension and content must agree', () => {
  it('refuses a renamed executable, and names of the other job type or off the allowlist', async () => {
    for (const [name, bytes] of [
      ['report.pdf', ELF],
      ['scan.png', ELF],
      ['song.mp3', TINY_PNG],
      ['scan.exe', TINY_PNG],
      ['page.html', PDF],
      ['talk.wav', PDF],
    ] as const) {
      const { status, json } = await upload(name, bytes);
      expect({ name, status, code: json.error_code }).toEqual({
        name,
        status: 415,
        code: 'FILE_EXTENSION_MISMATCH',
      });
    }
    // Unknown content under an unknown name stays an unsupported type.
    expect((await upload('notes.txt', Buffer.from('plain text'))).json.error_code).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect((await upload('program', ELF)).json.error_code).toBe('UNSUPPORTED_MEDIA_TYPE');
    // And so is unrecognisable content whatever its name.
    expect((await upload('notes.pdf', Buffer.from('just text'))).json.error_code).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('accepts a PNG named .jpg (same job type) with a warning on the job, and names without an extension', async () => {
    const jpg = await upload('photo.jpg', TINY_PNG);
    expect(jpg.status).toBe(201);
    const warning = svc.logs.find((line) => line.event === 'upload.extension_differs');
    expect(warning).toMatchObject({ job_id: jpg.json.job_id, mime: 'image/png' });
    expect(jpg.json.warnings).toEqual([
      {
        code: 'FILE_EXTENSION_DIFFERS',
        message: 'The file is named .jpg but its content is image/png; it is read as image/png.',
      },
    ]);
    const read = (await (await fetch(`${svc.url}/v1/jobs/${jpg.json.job_id}`)).json()) as typeof jpg.json;
    expect(read.warnings).toEqual(jpg.json.warnings);
    const plain = await upload('scan', TINY_PNG);
    expect(plain.status).toBe(201);
    expect(plain.json.warnings).toBeUndefined();
    expect((await upload('scan.TIFF.png', TINY_PNG)).status).toBe(201);
  });
});

describe('polyglots', () => {
  it('refuses files that are two types at once', async () => {
    const pdfAfter = (prefix: Buffer) => Buffer.concat([prefix, PDF]);
    const cases: Array<[string, Buffer]> = [
      ['elf-and-pdf.pdf', pdfAfter(ELF)],
      ['html-and-pdf.pdf', pdfAfter(Buffer.from('<html><script>alert(1)</script>\n'))],
      ['zip-first.pdf', pdfAfter(zipOf('a.txt', Buffer.from('hi')).subarray(0, 40))],
      ['pdf-and-zip.pdf', Buffer.concat([PDF, zipOf('payload.html', Buffer.from('<b>x</b>'))])],
      ['jpeg-and-zip.jpg', Buffer.concat([JPEG, zipOf('evil.exe', ELF)])],
      ['png-with-script.png', Buffer.concat([TINY_PNG, Buffer.from('<script src=//x></script>')])],
    ];
    for (const [name, bytes] of cases) {
      const { status, json } = await upload(name, bytes);
      expect({ name, status, code: json.error_code }).toEqual({ name, status: 415, code: 'FILE_POLYGLOT' });
    }
    // A plain PDF and a plain JPEG are fine.
    expect((await upload('plain.pdf', PDF)).status).toBe(201);
    expect((await upload('plain.jpg', JPEG)).status).toBe(201);
  });
});

describe('file names', () => {
  it('keeps a cleaned Unicode name for display and never uses it for storage', async () => {
    const cases: Array<[string, string]> = [
      ['../../etc/passwd.png', 'passwd.png'],
      ['..\\..\\windows\\win.png', 'win.png'],
      ['scan\u0007\u001b\u202e.png', 'scan.png'],
      ['प्रवचन १ — भाग २.png', 'प्रवचन १ — भाग २.png'],
    ];
    for (const [raw, shown] of cases) {
      const { status, json } = await upload(raw, TINY_PNG);
      expect({ raw, status, name: json.input_filename }).toEqual({ raw, status: 201, name: shown });
    }
    const long = `${'अ'.repeat(600)}.png`;
    const { json } = await upload(long, TINY_PNG);
    expect([...(json.input_filename ?? '')]).toHaveLength(255);
    expect(json.input_filename?.endsWith('.png')).toBe(true);
    // Storage holds jobs/<job id>/input only: no name, no traversal.
    const stored = await filesUnder(path.join(svc.dataDir, 'storage', 'jobs'));
    for (const file of stored) expect(file).toMatch(/^[A-Za-z0-9_-]+\/input$/);
  });

  it('refuses names with nothing usable left, not text, or absurdly long', async () => {
    const invalidUtf8 = Buffer.from([0x73, 0xff, 0xfe, 0x2e, 0x70, 0x6e, 0x67]).toString('latin1');
    for (const raw of ['\u202e\u0002', '\u0007.\u0001', `${'x'.repeat(5000)}.png`]) {
      const { status, json } = await upload(raw, TINY_PNG);
      expect({ raw: raw.slice(0, 9), status, code: json.error_code }).toEqual({
        raw: raw.slice(0, 9),
        status: 400,
        code: 'FILENAME_INVALID',
      });
    }
    const bytes = await upload(invalidUtf8, TINY_PNG, {}, 'latin1');
    expect([bytes.status, bytes.json.error_code]).toEqual([400, 'FILENAME_INVALID']);
    // The parser already drops what a path leaves empty: such a file is just "upload".
    const dots = await upload('../..', TINY_PNG);
    expect([dots.status, dots.json.input_filename]).toEqual([201, 'upload']);
  });
});

describe('size limits per job type', () => {
  it('refuses a recording over the transcription limit while an image of that size passes', async () => {
    const big = tinyWav(60_000);
    const refused = await upload('talk.wav', big);
    expect(refused.status).toBe(413);
    expect(refused.json.error_code).toBe('FILE_TOO_LARGE');
    expect(refused.json.detail).toContain('100000');
    const image = Buffer.concat([TINY_PNG, Buffer.alloc(big.length)]);
    expect((await upload('big.png', image)).status).toBe(201);
  });

  it('answers 413 to a 2 GB streamed image against a 200 MB limit before the body ends, with little memory', async () => {
    const total = 2 * 1024 ** 3;
    const boundary = '----dt-big-upload';
    const head = Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="huge.png"\r\ncontent-type: image/png\r\n\r\n`,
    );
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    let sent = 0;
    let stop = false;
    const body = Readable.from(
      (async function* () {
        yield head;
        yield TINY_PNG;
        while (!stop && sent < total) {
          sent += chunk.length;
          yield chunk;
        }
      })(),
    );
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const url = new URL(`${svc.url}/v1/jobs`);
    const { status, payload } = await new Promise<{ status: number; payload: string }>((resolve, reject) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        },
        (response) => {
          stop = true;
          let text = '';
          response.on('data', (data: Buffer) => {
            text += data.toString();
          });
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, payload: text });
            request.destroy();
          });
        },
      );
      request.on('error', (error) => {
        if (!stop) reject(error);
      });
      body.pipe(request);
    });
    clearInterval(sampler);
    expect(status).toBe(413);
    expect(JSON.parse(payload)).toMatchObject({ error_code: 'FILE_TOO_LARGE' });
    expect(JSON.parse(payload).detail).toContain(String(OCR_LIMIT));
    // Answered well before the 2 GB were sent, and the 200 MB read were never held in memory.
    expect(sent).toBeLessThan(total / 2);
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('nothing is kept of a refused upload', () => {
  it('stores one input and one job record per accepted upload only', async () => {
    const stored = await filesUnder(path.join(svc.dataDir, 'storage'));
    expect(stored.filter((file) => file.endsWith('/input'))).toHaveLength(accepted);
    expect(stored.filter((file) => !file.endsWith('/input'))).toEqual([]);
    const redis = connectTestRedis();
    try {
      const keys = await redis.keys(`${PREFIX}:job:*`);
      expect(keys.filter((key) => !key.includes(':attempts'))).toHaveLength(accepted);
    } finally {
      await redis.quit();
    }
  });
});
