import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { AuthConfig, OfferedEngines } from '../config/index.js';
import { AppError, type buildOpenApiDocument, type JobType, toOpenApiPath } from '../contract/index.js';
import type { DeadLetterStore } from '../jobs/dead-letter-store.js';
import type { FeatureFlags } from '../jobs/feature-flags.js';
import type { IntakeLimits } from '../jobs/intake-precheck.js';
import type { JobEventFeed } from '../jobs/job-event-feed.js';
import type { JobService } from '../jobs/job-service.js';
import type { QueueAdmin } from '../jobs/queue-admin.js';
import type { SubmitQuota } from '../jobs/submit-quota.js';
import type { UploadSessionStore } from '../jobs/upload-sessions.js';
import type { Logger } from '../observability/logger.js';
import { type PrometheusMetrics, UNMATCHED_ROUTE } from '../observability/prometheus-metrics.js';
import type { Readiness } from '../observability/readiness.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { WebhookStore } from '../webhooks/webhook-store.js';
import type { AccessListStore } from './auth/access-list-store.js';
import { registerAccessRoutes } from './auth/access-routes.js';
import { registerApiKeyRoutes } from './auth/api-key-routes.js';
import type { ApiKeyStore } from './auth/api-key-store.js';
import { registerAuth } from './auth/auth-plugin.js';
import { OidcSignIn } from './auth/oidc-sign-in.js';
import type { OidcVerifier } from './auth/oidc-verifier.js';
import { type RateLimitOptions, registerRateLimit } from './auth/rate-limit-by-caller.js';
import type { InputComplexityLimits } from './check-input-complexity.js';
import { registerHttpSecurity } from './http-security.js';
import { registerProblemHandlers } from './problem-details.js';
import { resolveRequestId } from './request-id.js';
import { registerAdminJobsRoutes } from './routes/admin-jobs-routes.js';
import { registerAdminQueuesRoutes } from './routes/admin-queues-routes.js';
import { registerContractRoutes } from './routes/contract-routes.js';
import { registerDeadLettersRoutes } from './routes/dead-letters-routes.js';
import { registerEventsRoutes } from './routes/events-routes.js';
import { registerFeatureFlagRoutes } from './routes/feature-flag-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerIntakeRoutes } from './routes/intake-routes.js';
import { registerJobsRoutes } from './routes/jobs-routes.js';
import { registerLegacyRoutes } from './routes/legacy-routes.js';
import { registerMetricsRoutes } from './routes/metrics-routes.js';
import { registerOpenAiTranscriptionRoutes } from './routes/openai-transcription-routes.js';
import { registerOpenApiRoutes } from './routes/openapi-routes.js';
import { registerSessionRoutes } from './routes/session-routes.js';
import { registerUploadsRoutes } from './routes/uploads-routes.js';
import { registerWebhookRoutes } from './routes/webhook-routes.js';
import { DEFAULT_WEB_ROOT, serveWebApp, WEB_APP_ROUTE } from './serve-web-app.js';

export interface ApiDeps {
  logger: Logger;
  jobs: JobService;
  /** Limits and speeds `POST /v1/intake/precheck` judges files by. */
  intakeLimits: IntakeLimits;
  deadLetters: DeadLetterStore;
  /** `/v1/admin/queues` and `/v1/admin/overview`. */
  queueAdmin: QueueAdmin;
  feed: JobEventFeed;
  /** Seconds between SSE heartbeats, in ms. */
  heartbeatMs: number;
  /** Whether the Redis connection is up: requests needing it fail fast with 503 when not. */
  isRedisReady: () => boolean;
  storage: ObjectStorage;
  /** Feature flags of this process (runtime overrides through the admin API). */
  flags: FeatureFlags;
  /** Engines jobs may name (`ocr_engine`, `transcription_engine`), from offeredEngines(config). */
  engines: OfferedEngines;
  readiness: Readiness;
  /** Served at `/metrics`; HTTP requests are counted into it. */
  metrics: PrometheusMetrics;
  metricsToken: string | null;
  maxUploadBytes: number;
  /** UPLOAD_MAX_BYTES_OCR / _TRANSCRIPTION, each at most maxUploadBytes. */
  maxUploadBytesByType?: Readonly<Record<JobType, number>>;
  /** OCR_MAX_IMAGE_PIXELS / OCR_MAX_PAGES / TRANSCRIPTION_MAX_DURATION_SEC applied at upload (the worker checks again). */
  inputComplexity?: InputComplexityLimits;
  /** HTTP_TRUST_PROXY: whose X-Forwarded-For gives `request.ip` (per-IP rate limits); default none. */
  trustProxy?: boolean | number | string[];
  quota: SubmitQuota;
  /** Resumable upload sessions (`/v1/uploads`). */
  uploads: UploadSessionStore;
  /** Built web page to serve at `/` (default `web/dist`). */
  webRoot?: string;
  auth: AuthConfig;
  apiKeys: ApiKeyStore;
  /** Access lists set through `PUT /v1/admin/access`, added to the configuration's. */
  accessLists: AccessListStore;
  /** Null in local single-user mode. */
  verifier: OidcVerifier | null;
  cors: { origins: string[]; allowCredentials: boolean };
  rateLimit: RateLimitOptions;
  webhooks: WebhookStore;
  /** Whether webhooks may target loopback/private addresses (WEBHOOK_ALLOW_PRIVATE_TARGETS). */
  webhookTargets: { allowPrivate: boolean };
  /** `POST /v1/audio/transcriptions`: how long to wait for the job (its `model` is judged against `engines`). */
  openaiCompat: { waitMs: number };
}

/** The HTTP API: wiring only; the work happens in the job service. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: (request) => resolveRequestId(request.headers['x-request-id']),
    // Our own `http.request` line (below) replaces Fastify's two default lines per request.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // A hop count as proxy-addr's own function form (Fastify's types only take that, a flag or addresses).
    trustProxy:
      typeof deps.trustProxy === 'number'
        ? (_address: string, hop: number) => hop < (deps.trustProxy as number)
        : (deps.trustProxy ?? false),
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route template, never the raw path: ids in paths would make a series per job.
    // The page's catch-all (`/*`) answering 404 matched nothing real: counted with the unmatched.
    const template = request.routeOptions.url;
    const route =
      !template || (template === WEB_APP_ROUTE && reply.statusCode === 404) ? UNMATCHED_ROUTE : template;
    deps.metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    request.log.info(
      {
        event: 'http.request',
        method: request.method,
        route,
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request completed',
    );
  });

  const served: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) served.push({ method, url: route.url });
  });

  registerProblemHandlers(app, { isDependencyDown: () => !deps.isRedisReady() });
  // Without Redis nothing under /v1 can answer: say so at once instead of hanging.
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/v1/') && !request.url.startsWith('/v1/contract') && !deps.isRedisReady()) {
      throw new AppError('DEPENDENCY_UNAVAILABLE');
    }
  });
  await registerHttpSecurity(app, {
    corsOrigins: deps.cors.origins,
    corsAllowCredentials: deps.cors.allowCredentials,
  });
  const resolvePrincipal = registerAuth(app, {
    config: deps.auth,
    apiKeys: deps.apiKeys,
    accessLists: deps.accessLists,
    verifier: deps.verifier,
    rateLimit: await registerRateLimit(app, deps.rateLimit),
  });
  await app.register(multipart, {
    limits: { fileSize: deps.maxUploadBytes + 1, files: 1, fields: 20, fieldSize: 1024, parts: 25 },
  });

  registerHealthRoutes(app, {
    readiness: deps.readiness,
    mode: deps.verifier ? 'oidc' : 'local-single-user',
  });
  registerMetricsRoutes(app, {
    metrics: deps.metrics,
    metricsToken: deps.metricsToken,
    localMode: !deps.verifier,
    principalOf: resolvePrincipal,
  });
  registerContractRoutes(app);
  registerJobsRoutes(app, deps);
  registerUploadsRoutes(app, deps);
  registerEventsRoutes(app, deps);
  registerIntakeRoutes(app, deps);
  registerDeadLettersRoutes(app, deps);
  registerAdminQueuesRoutes(app, deps);
  registerAdminJobsRoutes(app, deps);
  registerApiKeyRoutes(app, deps);
  registerAccessRoutes(app, deps);
  registerWebhookRoutes(app, deps);
  await registerOpenAiTranscriptionRoutes(app, deps);
  registerFeatureFlagRoutes(app, deps);
  await registerLegacyRoutes(app, deps);
  registerSessionRoutes(app, {
    auth: deps.auth,
    verifier: deps.verifier,
    signIn: deps.auth.oidc && deps.verifier ? new OidcSignIn(deps.auth.oidc, deps.verifier) : null,
  });
  assertRoutesDocumented(served, await registerOpenApiRoutes(app));
  // The page comes last: its fallback route is not part of the API.
  await serveWebApp(app, { root: deps.webRoot ?? DEFAULT_WEB_ROOT, logger: deps.logger });
  return app;
}

/** Every route the API serves must be in the OpenAPI document (Swagger UI's pages and CORS preflights aside). */
function assertRoutesDocumented(
  served: ReadonlyArray<{ method: string; url: string }>,
  document: ReturnType<typeof buildOpenApiDocument>,
): void {
  const paths = document.paths as Record<string, Record<string, unknown>>;
  const missing = served
    .filter(({ method, url }) => method !== 'HEAD' && method !== 'OPTIONS' && !url.startsWith('/docs'))
    .filter(({ method, url }) => !paths[toOpenApiPath(url)]?.[method.toLowerCase()])
    .map(({ method, url }) => `${method} ${url}`);
  if (missing.length > 0) throw new Error(`routes missing from the OpenAPI document: ${missing.join(', ')}`);
}
