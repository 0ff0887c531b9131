import type { FastifyInstance } from 'fastify';
import { AppError } from '../../contract/index.js';
import { hasMetricsToken, isLoopbackAddress } from '../../observability/metrics-access.js';
import type { PrometheusMetrics } from '../../observability/prometheus-metrics.js';
import type { PrincipalResolver } from '../auth/auth-plugin.js';

export interface MetricsRouteDeps {
  metrics: PrometheusMetrics;
  /** `METRICS_TOKEN`: what Prometheus sends as a bearer token. */
  metricsToken: string | null;
  /** Local single-user mode: only this machine may scrape without the token. */
  localMode: boolean;
  principalOf: PrincipalResolver;
}

/**
 * `GET /metrics` in the Prometheus text format: for Prometheus (bearer `METRICS_TOKEN`), an
 * administrator, or in local mode without a token anyone on this machine. Outside `/v1`, so it decides itself.
 */
export function registerMetricsRoutes(app: FastifyInstance, deps: MetricsRouteDeps): void {
  app.get('/metrics', async (request, reply) => {
    if (!hasMetricsToken(request.headers.authorization, deps.metricsToken)) {
      if (deps.localMode) {
        // Every local request acts as the administrator: a configured token is then the only key,
        // as on a worker's own port.
        if (deps.metricsToken) throw new AppError('AUTH_REQUIRED');
        if (!isLoopbackAddress(request.socket.remoteAddress)) throw new AppError('AUTH_FORBIDDEN');
      } else {
        const principal = await deps.principalOf(request);
        if (!principal.roles.includes('admin')) throw new AppError('AUTH_FORBIDDEN');
      }
    }
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
