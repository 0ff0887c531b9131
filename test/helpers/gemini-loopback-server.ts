import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer of the loopback server, in the Gemini REST wire format. */
export type GeminiReply =
  | {
      text: string;
      finishReason?: 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'RECITATION';
      /** Answer only after this long. */
      delayMs?: number;
    }
  | {
      status: number;
      error: { code: number; message: string; status: string; details?: Array<Record<string, unknown>> };
    };

/** Gemini's 429 with a `google.rpc.RetryInfo` detail asking to wait `retryDelay` (such as `'7s'`). */
export function rateLimitReply(retryDelay: string): GeminiReply {
  return {
    status: 429,
    error: {
      code: 429,
      message: 'Resource has been exhausted (e.g. check quota).',
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }],
    },
  };
}

export interface RecordedRequest {
  path: string;
  /** Date.now() when the request arrived. */
  receivedAt: number;
  apiKey: string | undefined;
  /** `Bearer <token>` of a Vertex AI request. */
  authorization: string | undefined;
  body: {
    contents: Array<{
      role: string;
      parts: Array<{ text?: string; inlineData?: { mimeType: string; data: string } }>;
    }>;
    generationConfig?: { temperature?: number; maxOutputTokens?: number };
  };
}

export interface GeminiLoopback {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Answers given in order; when they run out, `fallback` answers. */
  replies: GeminiReply[];
  fallback: GeminiReply;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The Gemini API's path, or Vertex AI's (`/v1beta1/projects/<p>/locations/<l>/publishers/google/models/<m>`). */
const GENERATE_CONTENT_PATH =
  /^\/(?:v1beta|v1beta1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google)\/models\/[^/:]+:generateContent$/;

/** A loopback HTTP server answering `POST /v1beta/models/<model>:generateContent` like the Gemini API. */
export async function startGeminiLoopback(): Promise<GeminiLoopback> {
  const state: GeminiLoopback = {
    baseUrl: '',
    requests: [],
    replies: [],
    fallback: { text: 'default page text' },
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      if (request.method !== 'POST' || !GENERATE_CONTENT_PATH.test(request.url ?? '')) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 404, message: 'not found', status: 'NOT_FOUND' } }));
        return;
      }
      state.requests.push({
        path: request.url ?? '',
        receivedAt: Date.now(),
        apiKey: request.headers['x-goog-api-key'] as string | undefined,
        authorization: request.headers.authorization,
        body: JSON.parse(body) as RecordedRequest['body'],
      });
      const reply = state.replies.shift() ?? state.fallback;
      if ('error' in reply) {
        response.writeHead(reply.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: reply.error }));
        return;
      }
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (response.destroyed) return;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          candidates: [
            {
              content: { role: 'model', parts: reply.text ? [{ text: reply.text }] : [] },
              finishReason: reply.finishReason ?? 'STOP',
              index: 0,
            },
          ],
          usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: 50, totalTokenCount: 1050 },
          modelVersion: 'gemini-loopback',
        }),
      );
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
