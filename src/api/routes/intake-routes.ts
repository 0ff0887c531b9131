import type { FastifyInstance } from 'fastify';
import { precheckRequestSchema } from '../../contract/index.js';
import { type IntakeLimits, precheckIntake } from '../../jobs/intake-precheck.js';
import type { JobService } from '../../jobs/job-service.js';
import { principalOf } from '../principal.js';
import { parseOrThrow } from './route-params.js';

export interface IntakeRoutesDeps {
  jobs: JobService;
  intakeLimits: IntakeLimits;
}

export function registerIntakeRoutes(app: FastifyInstance, deps: IntakeRoutesDeps): void {
  app.post('/v1/intake/precheck', async (request) => {
    const body = parseOrThrow(precheckRequestSchema, request.body ?? {});
    const state = await deps.jobs.intakeState(principalOf(request).userId);
    return precheckIntake(body, deps.intakeLimits, state);
  });
}
