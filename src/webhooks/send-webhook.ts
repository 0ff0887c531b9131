import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { AppError } from '../contract/index.js';
import { parseWebhookUrl, type ResolveHost, resolveAllowedAddresses } from './check-webhook-target.js';
import { signWebhook } from './webhook-signature.js';

export type SendOutcome =
  | { kind: 'delivered'; status: number }
  /** Worth another attempt: network error, 408, 429, 5xx. `retryAfterMs` from Retry-After. */
  | { kind: 'retry'; status: number | null; error: string; retryAfterMs: number | null }
  /** Another attempt would get the same answer (other 4xx, a forbidden target). */
  | { kind: 'give_up'; status: number | null; error: string };

/** Answer bodies are drained, not kept: only the first bytes go into the error text. */
const ERROR_BODY_CHARS = 200;

/**
 * The SSRF guard at connection time: the address the socket connects to is the one checked, so a
 * name that resolved to a public address at submit and to a private one now is still refused.
 */
export function guardedLookup(allowPrivate: boolean, resolveHost?: ResolveHost): LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowedAddresses(hostname, allowPrivate, resolveHost).then(
      (addresses) => {
        const wanted = typeof options === 'object' && options.family ? options.family : 0;
        const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
        const first = usable[0] ?? addresses[0];
        if (typeof options === 'object' && options.all) callback(null, usable.length ? usable : addresses);
        else callback(null, first?.address ?? '', first?.family ?? 4);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}

/** Retry-After as seconds or an HTTP date, in ms from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** One signed POST of `body` to `url`, classified for the retry decision. */
export async function sendWebhook(options: {
  url: string;
  secret: string;
  deliveryId: string;
  body: string;
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** The system resolver unless given (tests: a name whose answer changes). */
  resolveHost?: ResolveHost;
}): Promise<SendOutcome> {
  let url: URL;
  try {
    url = parseWebhookUrl(options.url);
  } catch (error) {
    return { kind: 'give_up', status: null, error: (error as Error).message };
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(options.body)),
    'user-agent': 'doc-transcribe-webhooks',
    'webhook-id': options.deliveryId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(options.secret, options.deliveryId, timestamp, options.body),
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendOutcome>((resolve) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers,
        lookup: guardedLookup(options.allowPrivateTargets, options.resolveHost),
        timeout: options.timeoutMs,
        // A redirect is not followed: its target would escape the guard.
      },
      (response) => {
        const status = response.statusCode ?? 0;
        let head = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (head.length < ERROR_BODY_CHARS) head += chunk.slice(0, ERROR_BODY_CHARS - head.length);
        });
        response.on('error', () => undefined);
        response.on('end', () => {
          const error = `HTTP ${status}${head ? `: ${head}` : ''}`;
          if (status >= 200 && status < 300) resolve({ kind: 'delivered', status });
          else if (status === 408 || status === 429 || status >= 500) {
            const retryAfter = response.headers['retry-after'];
            resolve({
              kind: 'retry',
              status,
              error,
              retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
            });
          } else resolve({ kind: 'give_up', status, error });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (error) => {
      const cause = (error as { cause?: unknown }).cause ?? error;
      if (cause instanceof AppError || error instanceof AppError) {
        const appError = (cause instanceof AppError ? cause : error) as AppError;
        // The target turned private (or stopped resolving): refused now, not worth retrying when forbidden.
        if (appError.code === 'WEBHOOK_TARGET_FORBIDDEN') {
          resolve({ kind: 'give_up', status: null, error: appError.code });
          return;
        }
        resolve({ kind: 'retry', status: null, error: appError.code, retryAfterMs: null });
        return;
      }
      resolve({ kind: 'retry', status: null, error: error.message, retryAfterMs: null });
    });
    request.end(options.body);
  });
}
