import type { FastifyInstance } from 'fastify';
import { errorFields } from '../../observability/logger.js';

export type ReadinessChecks = Record<string, () => Promise<void>>;

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout(check: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
    check()
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { checks: ReadinessChecks; mode: string },
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const results = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check);
          return [name, { ok: true }] as const;
        } catch (error) {
          request.log.warn(
            { event: 'readiness.check_failed', check: name, ...errorFields(error) },
            'not ready',
          );
          return [
            name,
            { ok: false, error: error instanceof Error ? error.message : String(error) },
          ] as const;
        }
      }),
    );
    const ready = results.every(([, result]) => result.ok);
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      auth_mode: deps.mode,
      checks: Object.fromEntries(results),
    });
  });
}
