import type { FastifyInstance } from 'fastify';
import {
  AppError,
  listDeadLettersQuerySchema,
  purgeDeadLettersQuerySchema,
  replayDeadLettersBodySchema,
} from '../../contract/index.js';
import type { DeadLetterStore } from '../../jobs/dead-letter-store.js';
import { requireAdmin } from '../principal.js';
import { jobIdOf, parseOrThrow } from './route-params.js';

export interface DeadLettersRoutesDeps {
  deadLetters: DeadLetterStore;
}

/** Operators' view of jobs that ended FAILED: list, inspect, replay, purge. */
export function registerDeadLettersRoutes(app: FastifyInstance, deps: DeadLettersRoutesDeps): void {
  app.get('/v1/admin/dead-letters', async (request) => {
    requireAdmin(request);
    const query = parseOrThrow(listDeadLettersQuerySchema, request.query);
    return deps.deadLetters.list(query);
  });

  app.get('/v1/admin/dead-letters/:id', async (request) => {
    requireAdmin(request);
    const letter = await deps.deadLetters.get(jobIdOf(request.params));
    if (!letter) throw new AppError('DEAD_LETTER_NOT_FOUND');
    return letter;
  });

  app.post('/v1/admin/dead-letters/:id/replay', async (request) => {
    requireAdmin(request);
    const jobId = jobIdOf(request.params);
    const outcome = await deps.deadLetters.replay(jobId, request.id);
    if (outcome === 'not_found') throw new AppError('DEAD_LETTER_NOT_FOUND');
    request.log.info({ event: 'dead_letter.replay', job_id: jobId, outcome }, 'dead letter replay');
    return { results: [{ job_id: jobId, outcome }] };
  });

  app.post('/v1/admin/dead-letters/replay', async (request) => {
    requireAdmin(request);
    const { job_ids: jobIds } = parseOrThrow(replayDeadLettersBodySchema, request.body);
    const results = [];
    for (const jobId of new Set(jobIds)) {
      const outcome = await deps.deadLetters.replay(jobId, request.id);
      request.log.info({ event: 'dead_letter.replay', job_id: jobId, outcome }, 'dead letter replay');
      results.push({ job_id: jobId, outcome });
    }
    return { results };
  });

  app.delete('/v1/admin/dead-letters/:id', async (request, reply) => {
    requireAdmin(request);
    const jobId = jobIdOf(request.params);
    if (!(await deps.deadLetters.remove(jobId))) throw new AppError('DEAD_LETTER_NOT_FOUND');
    request.log.info({ event: 'dead_letter.purged', job_id: jobId, purged: 1 }, 'dead letter purged');
    return reply.code(204).send();
  });

  app.delete('/v1/admin/dead-letters', async (request) => {
    requireAdmin(request);
    const { until } = parseOrThrow(purgeDeadLettersQuerySchema, request.query);
    const purged = await deps.deadLetters.purge(until);
    request.log.info({ event: 'dead_letter.purged', purged, until: until ?? null }, 'dead letters purged');
    return { purged };
  });
}
