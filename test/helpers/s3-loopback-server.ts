import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server speaking the S3 REST/XML API (path-style) for the requests the AWS SDK makes:
 * PUT/GET/HEAD/DELETE object, multipart create/upload-part/complete/abort, ListObjectsV2,
 * DeleteObjects, presigned GET. It checks that every request is signed (SigV4 header or query),
 * not that the signature is right. Objects live in memory: tests keep them small.
 */
export interface S3LoopbackServer {
  endpoint: string;
  bucket: string;
  objects: Map<string, Buffer>;
  /** Multipart uploads created and neither completed nor aborted (orphaned parts). */
  openUploads(): number;
  /** Answer the next `times` UploadPart requests with this status (a 5xx mid-upload). */
  failUploadParts(times: number, status?: number): void;
  /** Every request received, with the length of its body. */
  requests: Array<{ method: string; path: string; query: string; bodyBytes: number }>;
  close(): Promise<void>;
}

function xml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function s3Error(res: ServerResponse, status: number, code: string): void {
  xml(
    res,
    status,
    `<Error><Code>${code}</Code><Message>${code}</Message><RequestId>loopback</RequestId></Error>`,
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const escapeXml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startS3LoopbackServer(bucket = 'test-bucket'): Promise<S3LoopbackServer> {
  const objects = new Map<string, Buffer>();
  const uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  const requests: S3LoopbackServer['requests'] = [];
  let partFailures: { times: number; status: number } = { times: 0, status: 500 };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://loopback');
    const q = url.searchParams;
    const body = await readBody(req);
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.search,
      bodyBytes: body.length,
    });
    const signed = /^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? '') || q.has('X-Amz-Signature');
    if (!signed) return s3Error(res, 403, 'AccessDenied');
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const key = decodeURIComponent(keyParts.join('/'));
    if (bucketName !== bucket) return s3Error(res, 404, 'NoSuchBucket');

    if (!key) {
      if (req.method === 'GET' && q.get('list-type') === '2') {
        const prefix = q.get('prefix') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const contents = keys
          .map(
            (k) =>
              `<Contents><Key>${escapeXml(k)}</Key><Size>${objects.get(k)?.length ?? 0}</Size></Contents>`,
          )
          .join('');
        return xml(
          res,
          200,
          `<ListBucketResult><Name>${bucket}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
        );
      }
      if (req.method === 'POST' && q.has('delete')) {
        const keys = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) =>
          (m[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'),
        );
        for (const k of keys) objects.delete(k);
        return xml(res, 200, '<DeleteResult></DeleteResult>');
      }
      return s3Error(res, 400, 'NotImplemented');
    }

    const uploadId = q.get('uploadId');
    switch (req.method) {
      case 'POST':
        if (q.has('uploads')) {
          const id = randomUUID();
          uploads.set(id, { key, parts: new Map() });
          return xml(
            res,
            200,
            `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
          );
        }
        if (uploadId) {
          const upload = uploads.get(uploadId);
          if (!upload) return s3Error(res, 404, 'NoSuchUpload');
          const numbers = [...body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) =>
            Number(m[1]),
          );
          const missing = numbers.find((n) => !upload.parts.has(n));
          if (missing !== undefined || numbers.length === 0) return s3Error(res, 400, 'InvalidPart');
          objects.set(key, Buffer.concat(numbers.map((n) => upload.parts.get(n) as Buffer)));
          uploads.delete(uploadId);
          return xml(
            res,
            200,
            `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${uploadId}"</ETag></CompleteMultipartUploadResult>`,
          );
        }
        return s3Error(res, 400, 'NotImplemented');
      case 'PUT': {
        if (uploadId) {
          const upload = uploads.get(uploadId);
          if (!upload) return s3Error(res, 404, 'NoSuchUpload');
          if (partFailures.times > 0) {
            partFailures = { ...partFailures, times: partFailures.times - 1 };
            return s3Error(res, partFailures.status, 'InternalError');
          }
          const partNumber = Number(q.get('partNumber'));
          upload.parts.set(partNumber, body);
          res.writeHead(200, { etag: `"${uploadId}-${partNumber}"` });
          return void res.end();
        }
        objects.set(key, body);
        res.writeHead(200, { etag: `"${randomUUID()}"` });
        return void res.end();
      }
      case 'GET':
      case 'HEAD': {
        const object = objects.get(key);
        if (!object) {
          if (req.method === 'HEAD') {
            res.writeHead(404);
            return void res.end();
          }
          return s3Error(res, 404, 'NoSuchKey');
        }
        res.writeHead(200, {
          'content-length': object.length,
          'content-type': q.get('response-content-type') ?? 'application/octet-stream',
          ...(q.has('response-content-disposition')
            ? { 'content-disposition': q.get('response-content-disposition') ?? '' }
            : {}),
          etag: '"loopback"',
        });
        return void res.end(req.method === 'HEAD' ? undefined : object);
      }
      case 'DELETE':
        if (uploadId) uploads.delete(uploadId);
        else objects.delete(key);
        res.writeHead(204);
        return void res.end();
      default:
        return s3Error(res, 405, 'MethodNotAllowed');
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    objects,
    requests,
    openUploads: () => uploads.size,
    failUploadParts(times, status = 500) {
      partFailures = { times, status };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
