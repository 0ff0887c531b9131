import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Resolves once `count` requests have arrived (or rejects at the deadline). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback that answers webhook deliveries from a script: each request takes
 * the next answer (status and headers); once the script is used up every request gets 204.
 */
export async function startWebhookReceiver(
  script: Array<{ status: number; headers?: Record<string, string> }> = [],
  port = 0,
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiters: Array<() => void> = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = script.shift() ?? { status: 204 };
      response.writeHead(answer.status, answer.headers ?? {});
      response.end(answer.status >= 400 ? `scripted ${answer.status}` : undefined);
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hooks`,
    port: actual,
    received,
    waitFor(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length >= count) return resolve(received.slice(0, count));
          if (Date.now() > deadline)
            return reject(new Error(`only ${received.length} of ${count} webhooks arrived`));
          waiters.push(check);
          setTimeout(check, Math.max(0, Math.min(500, deadline - Date.now()))).unref();
        };
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
