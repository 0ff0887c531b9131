import type { FastifyInstance } from 'fastify';
import { adminListJobsQuerySchema } from '../../contract/index.js';
import type { JobService } from '../../jobs/job-service.js';
import { requireAdmin } from '../principal.js';
import { parseOrThrow } from './route-params.js';

export interface AdminJobsRoutesDeps {
  jobs: JobService;
}

/** Every owner's jobs, for administrators (403 `AUTH_FORBIDDEN` for everyone else). */
export function registerAdminJobsRoutes(app: FastifyInstance, deps: AdminJobsRoutesDeps): void {
  app.get('/v1/admin/jobs', async (request) => {
    const admin = requireAdmin(request);
    const query = parseOrThrow(adminListJobsQuerySchema, request.query);
    const list = await deps.jobs.listAll(query);
    // Reading other people's jobs leaves a trace: who looked, at what.
    request.log.info(
      {
        event: 'admin.jobs_listed',
        by_user_id: admin.userId,
        owner: query.owner ?? null,
        job_type: query.job_type ?? null,
        status: query.status,
        count: list.items.length,
      },
      'administrator listed jobs',
    );
    return list;
  });
}
