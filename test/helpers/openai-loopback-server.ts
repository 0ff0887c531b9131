import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the loopback server answers next: an HTTP status, headers and a raw body. */
export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
  /** Wait this long before answering (to test cancel and timeouts). */
  delayMs?: number;
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** Multipart form fields (not the file), as the SDK sent them. */
  fields: Record<string, string>;
  fileBytes: number;
}

export interface OpenAiLoopbackServer {
  /** Base URL to give the SDK, ending in `/v1`. */
  baseUrl: string;
  requests: ReceivedRequest[];
  answer(...answers: CannedAnswer[]): void;
  close(): Promise<void>;
}

export function verboseJson(
  segments: Array<{ start: number; end: number; text: string; avg_logprob?: number }>,
) {
  return JSON.stringify({
    task: 'transcribe',
    language: 'english',
    duration: segments.at(-1)?.end ?? 0,
    text: segments.map((s) => s.text).join(' '),
    segments: segments.map((s, id) => ({ id, seek: 0, tokens: [], temperature: 0, avg_logprob: -0.2, ...s })),
  });
}

/** Reads a multipart body into its text fields and the size of its file part. */
function parseMultipart(
  body: Buffer,
  contentType: string,
): { fields: Record<string, string>; fileBytes: number } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const marker = `--${boundary?.[1] ?? boundary?.[2] ?? ''}`;
  const fields: Record<string, string> = {};
  let fileBytes = 0;
  for (const part of body.toString('latin1').split(marker)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    const value = part.slice(headerEnd + 4).replace(/\r\n$/, '');
    const name = /name="([^"]+)"/.exec(headers)?.[1];
    if (!name) continue;
    if (/filename="/.test(headers)) fileBytes = Buffer.byteLength(value, 'latin1');
    else fields[name] = value;
  }
  return { fields, fileBytes };
}

/** A loopback HTTP server speaking the OpenAI audio transcription wire format, answering as told. */
export async function startOpenAiLoopbackServer(): Promise<OpenAiLoopbackServer> {
  const queue: CannedAnswer[] = [];
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { fields, fileBytes } = parseMultipart(
        Buffer.concat(chunks),
        request.headers['content-type'] ?? '',
      );
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        fields,
        fileBytes,
      });
      const next = queue.shift() ?? {
        status: 500,
        body: JSON.stringify({ error: { message: 'no answer queued' } }),
      };
      setTimeout(() => {
        if (response.destroyed) return;
        response.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
        response.end(next.body);
      }, next.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    answer: (...answers) => queue.push(...answers),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
