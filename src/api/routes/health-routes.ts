import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../observability/logger.js';
import type { Readiness } from '../../observability/readiness.js';

export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { readiness: Readiness; mode: string },
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const report = await deps.readiness.report(request.log as Logger);
    return reply.code(report.status === 'ready' ? 200 : 503).send({ ...report, auth_mode: deps.mode });
  });
}
