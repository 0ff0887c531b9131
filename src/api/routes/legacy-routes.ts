import type { FastifyInstance, FastifyReply, FastifyRequest, InjectOptions } from 'fastify';
import {
  type AppError,
  type Job,
  legacyContractDocument,
  type Problem,
  toLegacyError,
  toLegacyJob,
  v1JobType,
} from '../../contract/index.js';
import type { FeatureFlags } from '../../jobs/feature-flags.js';
import { errorFields } from '../../observability/logger.js';
import { problemFor, toAppError } from '../problem-details.js';

export interface LegacyRoutesDeps {
  flags: FeatureFlags;
  isRedisReady: () => boolean;
}

/** Request headers the v1 route needs to see as the caller sent them. */
const FORWARDED_REQUEST_HEADERS = [
  'authorization',
  'x-api-key',
  'content-type',
  'content-length',
  'transfer-encoding',
  'idempotency-key',
  'if-none-match',
  'user-agent',
] as const;
/** Response headers of the v1 answer that mean the same thing on the legacy one. */
const FORWARDED_RESPONSE_HEADERS = [
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
  'www-authenticate',
  'idempotent-replayed',
] as const;

function sendLegacyError(reply: FastifyReply, request: FastifyRequest, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type('application/json; charset=utf-8')
    .send(toLegacyError(problem, request.url.split('?')[0] ?? request.url));
}

/**
 * The earlier product's routes as thin adapters: each one replays the request on its v1 route
 * inside this process (same auth, quotas, validation, request id; the upload body is streamed
 * through, never buffered) and reshapes the answer — job fields renamed, errors in the earlier
 * `{error_code, error_message, detail, path, request_id}` envelope. Off unless flag `legacy_api`
 * is on; while off they answer 404 like any unknown route.
 */
export async function registerLegacyRoutes(app: FastifyInstance, deps: LegacyRoutesDeps): Promise<void> {
  await app.register((scope, _options, done) => {
    // The v1 route parses the body; here it must stay unread so it can be streamed on.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));

    scope.addHook('onRequest', async (request, reply) => {
      if (!deps.flags.isEnabled('legacy_api')) return reply.callNotFound();
      request.log.info(
        { event: 'legacy_api.request', path: request.routeOptions.url },
        'earlier-API request',
      );
    });

    scope.setErrorHandler((error, request, reply) => {
      const appError: AppError = toAppError(error, () => !deps.isRedisReady());
      const log = { event: 'http.error', error_code: appError.code, ...errorFields(error) };
      if (appError.httpStatus >= 500) request.log.error(log, 'request failed');
      else request.log.info(log, 'request rejected');
      return sendLegacyError(reply, request, problemFor(appError, request.id));
    });

    /** Runs the v1 route and answers with `shape` of its JSON body, or the error in the legacy envelope. */
    const relay = async (
      request: FastifyRequest,
      reply: FastifyReply,
      target: { method: InjectOptions['method']; url: string; body?: boolean },
      shape: (body: unknown) => unknown,
    ) => {
      const headers: Record<string, string> = { 'x-request-id': request.id };
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const response = await app.inject({
        method: target.method,
        url: target.url,
        headers,
        remoteAddress: request.ip,
        ...(target.body ? { payload: request.raw } : {}),
      });
      for (const name of FORWARDED_RESPONSE_HEADERS) {
        const value = response.headers[name];
        if (value !== undefined) reply.header(name, value);
      }
      if (response.statusCode >= 400) {
        return sendLegacyError(reply, request, response.json() as Problem);
      }
      if (response.statusCode === 304) return reply.code(304).send();
      if (response.headers.etag) reply.header('etag', response.headers.etag);
      return reply.code(response.statusCode).send(shape(response.json()));
    };

    const jobIdOf = (request: FastifyRequest) =>
      encodeURIComponent((request.params as { job_id: string }).job_id);
    const legacyJob = (body: unknown) => toLegacyJob(body as Job);

    scope.post('/upload', async (request, reply) =>
      relay(request, reply, { method: 'POST', url: '/v1/jobs', body: true }, legacyJob),
    );

    scope.get('/status/:job_id', async (request, reply) =>
      relay(request, reply, { method: 'GET', url: `/v1/jobs/${jobIdOf(request)}` }, legacyJob),
    );

    scope.get('/jobs', async (request, reply) => {
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(request.query as Record<string, string>)) {
        if (typeof value !== 'string') continue;
        query.set(name, name === 'job_type' ? v1JobType(value) : value);
      }
      return relay(request, reply, { method: 'GET', url: `/v1/jobs?${query}` }, (body) => {
        const page = body as { items: Job[]; next_cursor: string | null; counts: unknown };
        const jobs = page.items.map(toLegacyJob);
        return { jobs, count: jobs.length, counts: page.counts, next_cursor: page.next_cursor };
      });
    });

    scope.post('/jobs/:job_id/cancel', async (request, reply) =>
      relay(
        request,
        reply,
        { method: 'POST', url: `/v1/jobs/${jobIdOf(request)}/cancel`, body: true },
        legacyJob,
      ),
    );

    scope.post('/jobs/:job_id/retry', async (request, reply) =>
      relay(
        request,
        reply,
        { method: 'POST', url: `/v1/jobs/${jobIdOf(request)}/retry`, body: true },
        legacyJob,
      ),
    );

    scope.get('/contract/job-status', async () => legacyContractDocument());
    done();
  });
}
