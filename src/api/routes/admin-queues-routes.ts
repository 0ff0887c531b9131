import type { FastifyInstance } from 'fastify';
import { setConcurrencyBodySchema } from '../../contract/index.js';
import type { QueueAdmin } from '../../jobs/queue-admin.js';
import type { Logger } from '../../observability/logger.js';
import { requireAdmin } from '../principal.js';
import { parseOrThrow } from './route-params.js';

export interface AdminQueuesRoutesDeps {
  queueAdmin: QueueAdmin;
}

const queueOf = (params: unknown) => (params as { queue: string }).queue;

/** Operators' view and control of the queues; admin only. `GET /v1/queues` stays for everyone. */
export function registerAdminQueuesRoutes(app: FastifyInstance, deps: AdminQueuesRoutesDeps): void {
  app.get('/v1/admin/overview', async (request) => {
    requireAdmin(request);
    return deps.queueAdmin.overview(request.log as Logger);
  });

  app.get('/v1/admin/queues', async (request) => {
    requireAdmin(request);
    return { queues: await deps.queueAdmin.queues() };
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/v1/admin/queues/:queue/${action}`, async (request) => {
      requireAdmin(request);
      const queue = queueOf(request.params);
      await deps.queueAdmin[action](queue);
      // Written out, so docs/logging.md's check sees both event names.
      if (action === 'pause') request.log.info({ event: 'queue.paused', queue }, 'queue paused');
      else request.log.info({ event: 'queue.resumed', queue }, 'queue resumed');
      return { queue, paused: action === 'pause' };
    });
  }

  app.put('/v1/admin/queues/:queue/concurrency', async (request) => {
    requireAdmin(request);
    const queue = queueOf(request.params);
    const body = parseOrThrow(setConcurrencyBodySchema, request.body);
    await deps.queueAdmin.setConcurrency(queue, body);
    request.log.info(
      {
        event: 'queue.concurrency_set',
        queue,
        per_worker: body.per_worker ?? null,
        global: body.global ?? null,
      },
      'queue concurrency set',
    );
    return { queue, ...body };
  });
}
