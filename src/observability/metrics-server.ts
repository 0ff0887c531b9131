import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_CATALOG, type ErrorCode } from '../contract/index.js';
import type { Logger } from './logger.js';
import { hasMetricsToken, isLoopbackAddress } from './metrics-access.js';
import type { PrometheusMetrics } from './prometheus-metrics.js';
import type { Readiness } from './readiness.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * A worker process's own HTTP port (`WORKER_METRICS_PORT`): `/metrics`, `/healthz` and `/readyz`,
 * so Prometheus and an orchestrator can watch workers that serve no API. `/metrics` needs the
 * bearer `METRICS_TOKEN` when one is configured, else it answers this machine only.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  metrics: PrometheusMetrics;
  readiness: Readiness;
  token: string | null;
  logger: Logger;
}): Promise<MetricsServer> {
  const { metrics, readiness, token, logger } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answer = async () => {
      if (request.method !== 'GET') return problem(response, 'ROUTE_NOT_FOUND');
      switch (path) {
        case '/healthz':
          return json(response, 200, { status: 'ok' });
        case '/readyz': {
          const report = await readiness.report();
          return json(response, report.status === 'ready' ? 200 : 503, report);
        }
        case '/metrics': {
          const allowed = token
            ? hasMetricsToken(request.headers.authorization, token)
            : isLoopbackAddress(request.socket.remoteAddress);
          if (!allowed) return problem(response, token ? 'AUTH_REQUIRED' : 'AUTH_FORBIDDEN');
          const body = await metrics.registry.metrics();
          response.writeHead(200, { 'content-type': metrics.registry.contentType });
          response.end(body);
          return;
        }
        default:
          return problem(response, 'ROUTE_NOT_FOUND');
      }
    };
    answer().catch((error: unknown) => {
      logger.error(
        { event: 'metrics.server_error', err: { message: String(error) } },
        'metrics request failed',
      );
      if (!response.headersSent) problem(response, 'INTERNAL_ERROR');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ event: 'worker.metrics_listening', url }, `worker metrics on ${url}/metrics`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

function problem(response: ServerResponse, code: ErrorCode): void {
  const entry = ERROR_CATALOG[code];
  response.writeHead(entry.status, { 'content-type': 'application/problem+json; charset=utf-8' });
  response.end(JSON.stringify({ title: entry.title, status: entry.status, error_code: code }));
}
