import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/** Headers a browser may send across origins, and those its scripts may read back. */
const ALLOWED_HEADERS = [
  'authorization',
  'x-api-key',
  'content-type',
  'idempotency-key',
  'upload-offset',
  'tus-resumable',
  'if-none-match',
  'last-event-id',
  'x-request-id',
];
const EXPOSED_HEADERS = [
  'x-request-id',
  'location',
  'upload-offset',
  'upload-length',
  'upload-expires',
  'etag',
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
  'idempotent-replayed',
  'content-disposition',
  'www-authenticate',
];

const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      // The page is a Vite build: its own script and style files, no inline script.
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      // Swagger UI at /docs sets inline styles; the page itself needs none.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      // The page reads a chosen recording's length from an <audio> element on a blob: URL.
      mediaSrc: ["'self'", 'blob:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  // Served over plain HTTP on loopback in local mode; HSTS belongs to the TLS proxy in front.
  strictTransportSecurity: false,
  referrerPolicy: { policy: 'no-referrer' },
};

/**
 * The headers helmet sets for these options. None of them depends on the request (no CSP nonces,
 * no per-request directives), so helmet runs once against a recording response.
 */
export function securityHeaders(options: HelmetOptions): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, String(value)]);
    },
    removeHeader() {},
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

/**
 * Security headers on every answer (CSP for the page and /docs, nosniff, no framing) and CORS for
 * the configured origins only: no origin listed, no CORS headers at all.
 */
export async function registerHttpSecurity(
  app: FastifyInstance,
  options: { corsOrigins: string[]; corsAllowCredentials: boolean },
): Promise<void> {
  // The same headers on every answer: worked out once, not by helmet on every request.
  const headers = securityHeaders(HELMET_OPTIONS);
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
  const wildcard = options.corsOrigins.includes('*');
  await app.register(cors, {
    origin: options.corsOrigins.length === 0 ? false : wildcard ? '*' : options.corsOrigins,
    credentials: options.corsAllowCredentials,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
    strictPreflight: true,
  });
}
