import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server speaking the Google Cloud Storage JSON API for what `@google-cloud/storage`
 * sends: resumable upload sessions (POST to open, PUT chunks with Content-Range, 308 with Range
 * until the last one), object metadata, `alt=media` downloads, list, delete, and V4-signed
 * `/<bucket>/<object>` GETs. Objects live in memory: tests keep them small.
 */
export interface GcsLoopbackServer {
  endpoint: string;
  bucket: string;
  objects: Map<string, Buffer>;
  /** Resumable sessions opened and not finished. */
  openSessions(): number;
  /** Answer the next `times` chunk PUTs with this status (a 5xx mid-upload). */
  failChunks(times: number, status?: number): void;
  requests: Array<{ method: string; path: string; query: string; range?: string }>;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function gcsError(res: ServerResponse, status: number, message: string): void {
  json(res, status, { error: { code: status, message, errors: [{ message, reason: 'loopback' }] } });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startGcsLoopbackServer(bucket = 'test-bucket'): Promise<GcsLoopbackServer> {
  const objects = new Map<string, Buffer>();
  const sessions = new Map<string, { name: string; received: Buffer[]; length: number }>();
  const requests: GcsLoopbackServer['requests'] = [];
  let chunkFailures = { times: 0, status: 503 };
  let endpoint = '';

  const metadataOf = (name: string, data: Buffer) => ({
    kind: 'storage#object',
    id: `${bucket}/${name}`,
    name,
    bucket,
    size: String(data.length),
    generation: '1',
    contentType: 'application/octet-stream',
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://loopback');
    const q = url.searchParams;
    const range = req.headers['content-range'];
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.search,
      ...(range ? { range } : {}),
    });
    const body = await readBody(req);
    const uploadPath = `/upload/storage/v1/b/${bucket}/o`;
    const objectsPath = `/storage/v1/b/${bucket}/o`;

    if (url.pathname === uploadPath && req.method === 'POST' && q.get('uploadType') === 'resumable') {
      const name = q.get('name') ?? '';
      const id = randomUUID();
      sessions.set(id, { name, received: [], length: 0 });
      res.writeHead(200, {
        location: `${endpoint}${uploadPath}?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`,
      });
      return void res.end();
    }
    if (url.pathname === uploadPath && req.method === 'PUT' && q.has('upload_id')) {
      const session = sessions.get(q.get('upload_id') ?? '');
      if (!session) return gcsError(res, 404, 'No such upload session');
      const match = /^bytes (\*|(\d+)-(\d+))\/(\*|\d+)$/.exec(String(range ?? ''));
      if (!match) return gcsError(res, 400, `bad Content-Range ${range}`);
      if (match[1] !== '*') {
        if (chunkFailures.times > 0) {
          chunkFailures = { ...chunkFailures, times: chunkFailures.times - 1 };
          return gcsError(res, chunkFailures.status, 'Backend Error');
        }
        const start = Number(match[2]);
        // A resent chunk overlapping what we hold: keep only the new bytes.
        if (start !== session.length) {
          if (start > session.length) return gcsError(res, 400, 'gap in resumable upload');
          const skip = session.length - start;
          session.received.push(body.subarray(skip));
          session.length += Math.max(0, body.length - skip);
        } else {
          session.received.push(body);
          session.length += body.length;
        }
      }
      const total = match[4] === '*' ? undefined : Number(match[4]);
      if (total !== undefined && total === session.length) {
        const data = Buffer.concat(session.received);
        objects.set(session.name, data);
        sessions.delete(q.get('upload_id') ?? '');
        return json(res, 200, metadataOf(session.name, data));
      }
      res.writeHead(308, session.length > 0 ? { range: `bytes=0-${session.length - 1}` } : {});
      return void res.end();
    }
    if (url.pathname === objectsPath && req.method === 'GET') {
      const prefix = q.get('prefix') ?? '';
      const items = [...objects.entries()]
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, data]) => metadataOf(name, data));
      return json(res, 200, { kind: 'storage#objects', items });
    }
    if (url.pathname.startsWith(`${objectsPath}/`)) {
      const name = decodeURIComponent(url.pathname.slice(objectsPath.length + 1));
      const data = objects.get(name);
      if (req.method === 'DELETE') {
        if (!data) return gcsError(res, 404, 'No such object');
        objects.delete(name);
        res.writeHead(204);
        return void res.end();
      }
      if (!data) return gcsError(res, 404, `No such object: ${bucket}/${name}`);
      if (q.get('alt') === 'media') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
        return void res.end(data);
      }
      return json(res, 200, metadataOf(name, data));
    }
    if (url.pathname.startsWith(`/${bucket}/`) && req.method === 'GET' && q.has('X-Goog-Signature')) {
      const name = decodeURIComponent(url.pathname.slice(bucket.length + 2));
      const data = objects.get(name);
      if (!data) return gcsError(res, 404, 'No such object');
      res.writeHead(200, {
        'content-type': q.get('response-content-type') ?? 'application/octet-stream',
        ...(q.has('response-content-disposition')
          ? { 'content-disposition': q.get('response-content-disposition') ?? '' }
          : {}),
        'content-length': data.length,
      });
      return void res.end(data);
    }
    return gcsError(res, 400, `not implemented: ${req.method} ${url.pathname}`);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => gcsError(res, 500, String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    bucket,
    objects,
    requests,
    openSessions: () => sessions.size,
    failChunks(times, status = 503) {
      chunkFailures = { times, status };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
