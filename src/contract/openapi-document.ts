import { z } from 'zod';
import { FEATURE_FLAG_NAMES } from '../config/feature-flag-registry.js';
import { apiKeyListSchema, createApiKeySchema, createdApiKeySchema } from './api-keys.js';
import {
  deadLetterListSchema,
  deadLetterSchema,
  purgeResultSchema,
  replayDeadLettersBodySchema,
  replayResultSchema,
} from './dead-letter.js';
import { ERROR_CODES } from './error-catalog.js';
import { precheckRequestSchema, precheckResultSchema } from './intake-precheck.js';
import {
  adminJobListSchema,
  CONTRACT_VERSION,
  jobListSchema,
  jobSchema,
  problemSchema,
  queuesOverviewSchema,
  retryJobBodySchema,
  submitJobFieldsSchema,
  submittedJobSchema,
} from './job.js';
import { SSE_EVENTS } from './job-events.js';
import { JOB_TYPES, OUTPUT_FORMATS, QUEUE_NAMES } from './job-kinds.js';
import { JOB_STATUSES } from './job-status.js';
import { OCR_ENGINES } from './ocr-options.js';
import {
  OPENAI_RESPONSE_FORMATS,
  openAiErrorSchema,
  openAiPendingSchema,
  openAiTranscriptionSchema,
  openAiVerboseTranscriptionSchema,
} from './openai-transcription.js';
import { adminOverviewSchema, adminQueuesSchema, setConcurrencyBodySchema } from './queue-admin.js';
import { authConfigSchema, tokenRequestSchema, tokenSetSchema, whoAmISchema } from './session.js';
import { SPEECH_ENGINES } from './transcription-options.js';
import {
  createUploadBodySchema,
  submitFromUploadBodySchema,
  UPLOAD_PATCH_CONTENT_TYPE,
  uploadSessionSchema,
} from './uploads.js';
import {
  putWebhookBodySchema,
  savedWebhookSchema,
  webhookDeliveryListSchema,
  webhookPayloadSchema,
  webhookSchema,
} from './webhooks.js';

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) of a contract schema, ready for `components`. */
function componentOf(schema: z.ZodType, io: 'input' | 'output' = 'output') {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });

const STRING_LIST = { type: 'array', items: { type: 'string' }, maxItems: 10_000 };
/** `PUT /v1/admin/access` (src/api/auth/access-list-store.ts); absent lists are empty. */
const ACCESS_LISTS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    allowed_emails: STRING_LIST,
    allowed_domains: STRING_LIST,
    admin_emails: STRING_LIST,
    blocked_emails: { ...STRING_LIST, description: 'Addresses (a@b.org) or whole domains (@b.org)' },
  },
};
const ACCESS_VIEW_SCHEMA = {
  type: 'object',
  required: ['stored', 'config', 'effective', 'allow_all_users'],
  properties: {
    stored: ACCESS_LISTS_SCHEMA,
    config: ACCESS_LISTS_SCHEMA,
    effective: ACCESS_LISTS_SCHEMA,
    allow_all_users: { type: 'boolean' },
  },
};

function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: 'A problem (RFC 9457) with a catalog `error_code`',
        content: { 'application/problem+json': { schema: ref('Problem') } },
      },
    ]),
  );
}

/** The filters a history listing takes (`GET /v1/jobs`, `GET /v1/admin/jobs`). */
const historyFilterParameters = [
  { name: 'job_type', in: 'query', schema: { type: 'string', enum: [...JOB_TYPES] } },
  {
    name: 'status',
    in: 'query',
    description: `One or more of ${JOB_STATUSES.join(', ')}, separated by commas`,
    schema: { type: 'string' },
  },
];

/** Cursor paging of a history listing. */
const pageParameters = [
  {
    name: 'cursor',
    in: 'query',
    description: '`next_cursor` of the previous page',
    schema: { type: 'string' },
  },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
];

const jobIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The job id (a UUIDv7)',
  schema: { type: 'string' },
};

const uploadIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The upload id (`upload_id`)',
  schema: { type: 'string' },
};

const uploadHeaders = {
  'Upload-Offset': { description: 'Bytes stored so far', schema: { type: 'integer' } },
  'Upload-Length': { description: 'The declared size', schema: { type: 'integer' } },
  'Upload-Expires': { description: 'When the session and its bytes are removed', schema: { type: 'string' } },
};

const queueParameter = {
  name: 'queue',
  in: 'path',
  required: true,
  description: 'The queue name (`ocr`, `transcription`)',
  schema: { type: 'string', enum: Object.values(QUEUE_NAMES) },
};

const queueState = {
  description: 'The queue and its pause state',
  content: json({
    type: 'object',
    properties: { queue: { type: 'string' }, paused: { type: 'boolean' } },
    required: ['queue', 'paused'],
  }),
};

const eventStream = {
  description: `Server-Sent Events: \`${SSE_EVENTS.job}\` (data: a Job), \`${SSE_EVENTS.jobDeleted}\` (data: {job_id}), \`${SSE_EVENTS.resync}\`; comment heartbeats. Send \`Last-Event-ID\` to resume.`,
  content: { 'text/event-stream': { schema: { type: 'string' } } },
};

const signedUrlRedirect = {
  description:
    'With S3 or GCS storage (STORAGE_DRIVER): a redirect to a short-lived signed URL of the object (STORAGE_SIGNED_URL_TTL_SEC), so the bytes do not pass through the API',
  headers: { Location: { schema: { type: 'string', format: 'uri' } } },
};

const flagNameParameter = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', enum: FEATURE_FLAG_NAMES },
};

const legacyJobIdParameter = { ...jobIdParameter, name: 'job_id' };
const legacyJobResponse = {
  description: 'The job, with the earlier field names',
  content: json(ref('LegacyJob')),
};
const legacyErrors = Object.fromEntries(
  [400, 401, 404, 409, 413, 415, 429, 503].map((status) => [
    String(status),
    {
      description: 'The earlier error envelope with a catalog `error_code`',
      content: json(ref('LegacyError')),
    },
  ]),
);

const nullable = (type: string) => ({ type: [type, 'null'] });
const legacyJobComponent = {
  type: 'object',
  description: 'A job in the earlier product’s field names; `duration_sec` is the measured media duration',
  properties: {
    job_id: { type: 'string' },
    job_type: { type: 'string', enum: ['ocr', 'transcription'] },
    status: { type: 'string' },
    stage: { type: 'string' },
    progress: { type: 'integer' },
    filename: { type: 'string' },
    subtype: { type: 'string' },
    language: { type: 'string' },
    duration_sec: nullable('number'),
    processing_duration_sec: nullable('number'),
    page_count: nullable('integer'),
    engine: nullable('string'),
    error_code: nullable('string'),
    error_message: nullable('string'),
    error_detail: nullable('string'),
    error: nullable('string'),
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    completed_at: nullable('string'),
    contract_version: { type: 'string' },
    result_urls: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

const featureFlagComponent = {
  type: 'object',
  properties: {
    name: { type: 'string', enum: FEATURE_FLAG_NAMES },
    enabled: { type: 'boolean' },
    source: { type: 'string', enum: ['env', 'override'] },
    start_value: { type: 'boolean' },
    env: { type: 'string' },
    description: { type: 'string' },
    owner: { type: 'string' },
    public: { type: 'boolean' },
  },
};

const lastEventIdHeader = {
  name: 'Last-Event-ID',
  in: 'header',
  required: false,
  description: 'The id of the last event received; the stream resumes after it',
  schema: { type: 'string' },
};

const apiKeyIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The API key id',
  schema: { type: 'string' },
};

/** Every `/v1` operation needs credentials and can be refused (401, 403) or limited (429). */
function withAuth<T extends Record<string, Record<string, { responses: Record<string, unknown> }>>>(
  paths: T,
): T {
  for (const [path, operations] of Object.entries(paths)) {
    for (const operation of Object.values(operations)) {
      const op = operation as { responses: Record<string, unknown>; security?: unknown[] };
      if (path.startsWith('/v1/')) Object.assign(op.responses, problems(401, 403, 429));
      else op.security ??= [];
    }
  }
  return paths;
}

/**
 * The OpenAPI 3.1 description of the HTTP API, built from the contract's schemas. The API refuses
 * to start if it serves a route this document does not describe.
 */
export function buildOpenApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'doc-transcribe API',
      version: CONTRACT_VERSION,
      description:
        'Documents to text (OCR) and recordings to transcripts, as asynchronous jobs. Every error is application/problem+json with a stable `error_code` from the catalog at `/v1/contract`.',
    },
    tags: [
      { name: 'jobs' },
      {
        name: 'uploads',
        description: 'Resumable uploads (tus 1.0 in spirit), then POST /v1/jobs with `upload_id`',
      },
      { name: 'events' },
      { name: 'api-keys' },
      { name: 'webhooks' },
      { name: 'openai-compatible' },
      { name: 'operations' },
      { name: 'admin' },
      {
        name: 'legacy',
        description: 'The earlier product’s routes, behind feature flag `legacy_api` (docs/api.md)',
      },
    ],
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: withAuth({
      '/healthz': {
        get: {
          tags: ['operations'],
          summary: 'Liveness: the process answers',
          responses: { '200': { description: 'Alive', content: json({ type: 'object' }) } },
        },
      },
      '/readyz': {
        get: {
          tags: ['operations'],
          summary: 'Readiness: Redis, storage, engines and (workers) queue consumers answer',
          responses: {
            '200': { description: 'Ready', content: json({ type: 'object' }) },
            '503': { description: 'Not ready; `checks` says why', content: json({ type: 'object' }) },
          },
        },
      },
      '/metrics': {
        get: {
          tags: ['operations'],
          summary:
            'Prometheus metrics: bearer METRICS_TOKEN or an administrator (local mode: this machine only)',
          security: [{ bearer: [] }, { apiKey: [] }],
          responses: {
            '200': {
              description: 'Prometheus text exposition format 0.0.4 (docs/observability.md)',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...problems(401, 403),
          },
        },
      },
      '/openapi.json': {
        get: {
          tags: ['operations'],
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
      '/v1/contract': {
        get: {
          tags: ['operations'],
          summary: 'The job contract: enums, state machine, supported inputs, error catalog, schemas',
          responses: { '200': { description: 'The contract', content: json({ type: 'object' }) } },
        },
      },
      '/v1/api-keys': {
        post: {
          tags: ['api-keys'],
          summary: 'Create an API key for scripts; the key is in this answer only',
          requestBody: { required: true, content: json(ref('CreateApiKey')) },
          responses: {
            '201': { description: 'The key, shown once', content: json(ref('CreatedApiKey')) },
            ...problems(400, 503),
          },
        },
        get: {
          tags: ['api-keys'],
          summary: "The caller's API keys (never the keys themselves)",
          responses: {
            '200': { description: 'The keys', content: json(ref('ApiKeyList')) },
            ...problems(503),
          },
        },
      },
      '/v1/api-keys/{id}': {
        delete: {
          tags: ['api-keys'],
          summary: 'Revoke an API key at once',
          parameters: [apiKeyIdParameter],
          responses: { '204': { description: 'Revoked' }, ...problems(404, 503) },
        },
      },
      '/v1/webhook': {
        put: {
          tags: ['webhooks'],
          summary:
            "Set the caller's webhook URL (all their jobs' job.* events); the signing secret is in the answer when created or rotated",
          requestBody: { required: true, content: json(ref('PutWebhook')) },
          responses: {
            '200': { description: 'The webhook (secret only when new)', content: json(ref('SavedWebhook')) },
            ...problems(400, 503),
          },
        },
        get: {
          tags: ['webhooks'],
          summary: "The caller's webhook (never the secret)",
          responses: {
            '200': { description: 'The webhook', content: json(ref('Webhook')) },
            ...problems(404, 503),
          },
        },
        delete: {
          tags: ['webhooks'],
          summary: 'Remove the webhook and its secret; pending deliveries are dropped',
          responses: { '204': { description: 'Removed' }, ...problems(404, 503) },
        },
      },
      '/v1/webhook/deliveries': {
        get: {
          tags: ['webhooks'],
          summary: 'How recent deliveries ended (delivered or failed for good), newest first',
          responses: {
            '200': { description: 'Deliveries', content: json(ref('WebhookDeliveryList')) },
            ...problems(503),
          },
        },
      },
      '/v1/audio/transcriptions': {
        post: {
          tags: ['openai-compatible'],
          summary:
            'OpenAI-compatible transcription: a TRANSCRIPTION job answered in OpenAI shapes once done (errors in OpenAI’s envelope)',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file', 'model'],
                  properties: {
                    file: { type: 'string', format: 'binary' },
                    model: {
                      type: 'string',
                      description:
                        'whisper-1, gpt-4o-transcribe or gpt-4o-mini-transcribe run the configured speech engine; an engine this server offers (GET /v1/config: pocketsphinx, whisper, openai, gemini) runs that engine; anything else is 400 ENGINE_NOT_OFFERED',
                    },
                    language: { type: 'string' },
                    prompt: { type: 'string' },
                    response_format: { type: 'string', enum: [...OPENAI_RESPONSE_FORMATS] },
                    'timestamp_granularities[]': { type: 'string', enum: ['segment', 'word'] },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'json: {text}; verbose_json: segments; text, srt, vtt: plain text',
              content: {
                'application/json': {
                  schema: { oneOf: [ref('OpenAiTranscription'), ref('OpenAiVerboseTranscription')] },
                },
                'text/plain': { schema: { type: 'string' } },
                'text/vtt': { schema: { type: 'string' } },
              },
            },
            '202': {
              description: 'Still running after OPENAI_COMPAT_WAIT_MS: fetch the result from the job routes',
              content: json(ref('OpenAiPending')),
            },
            ...Object.fromEntries(
              ['400', '401', '403', '409', '413', '415', '422', '429', '500', '503'].map((status) => [
                status,
                { description: 'OpenAI error envelope', content: json(ref('OpenAiError')) },
              ]),
            ),
          },
        },
      },
      '/v1/auth/config': {
        get: {
          tags: ['api-keys'],
          summary:
            'How the page signs in: local mode, or the identity provider and its authorization endpoint',
          security: [],
          responses: {
            '200': { description: 'Sign-in settings', content: json(ref('AuthConfig')) },
            ...problems(503),
          },
        },
      },
      '/v1/auth/token': {
        post: {
          tags: ['api-keys'],
          summary:
            "Trade the page's authorization code (PKCE) or a refresh token for an ID token, through the API",
          security: [],
          requestBody: { required: true, content: json(ref('TokenRequest')) },
          responses: {
            '200': { description: 'Tokens to keep in memory', content: json(ref('TokenSet')) },
            ...problems(400, 404, 503),
          },
        },
      },
      '/v1/me': {
        get: {
          tags: ['api-keys'],
          summary: 'The caller: user id, email, roles and how they signed in',
          responses: { '200': { description: 'The caller', content: json(ref('WhoAmI')) }, ...problems(503) },
        },
      },
      '/v1/queues': {
        get: {
          tags: ['operations'],
          summary: 'Counts of every queue and the age of its oldest waiting job (administrators only)',
          responses: {
            '200': { description: 'Queues', content: json(ref('QueuesOverview')) },
            ...problems(503),
          },
        },
      },
      '/v1/intake/precheck': {
        post: {
          tags: ['jobs'],
          summary:
            'Judge a file before uploading it: detected type, refusals with their codes, warnings, time and effort',
          requestBody: { required: true, content: json(ref('PrecheckRequest')) },
          responses: {
            '200': {
              description: 'The verdict (advice: the upload is still judged by content)',
              content: json(ref('PrecheckResult')),
            },
            ...problems(400, 503),
          },
        },
      },
      '/v1/jobs': {
        post: {
          tags: ['jobs'],
          summary:
            'Upload a file and create a job (multipart), or create it from a complete resumable upload (JSON `upload_id`)',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'Makes the submit safe to retry: the same key with the same file and fields returns the first job (200, `reused: true`) for 24 h',
              schema: { type: 'string', minLength: 1, maxLength: 255 },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  allOf: [
                    ref('SubmitFields'),
                    {
                      type: 'object',
                      required: ['file'],
                      properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
                    },
                  ],
                },
              },
              'application/json': { schema: ref('SubmitFromUpload') },
            },
          },
          responses: {
            '201': { description: 'Job created', content: json(ref('SubmittedJob')) },
            '200': {
              description: 'Replayed: the job an earlier request with this key created',
              content: json(ref('SubmittedJob')),
            },
            ...problems(400, 404, 409, 413, 415, 422, 503),
          },
        },
        get: {
          tags: ['jobs'],
          summary: "The caller's history, newest first, with counts",
          parameters: [
            ...historyFilterParameters,
            {
              name: 'q',
              in: 'query',
              description: 'Part of the file name',
              schema: { type: 'string', maxLength: 200 },
            },
            ...pageParameters,
          ],
          responses: {
            '200': { description: 'A page', content: json(ref('JobList')) },
            ...problems(400, 503),
          },
        },
      },
      '/v1/uploads': {
        post: {
          tags: ['uploads'],
          summary:
            'Start a resumable upload: declare the file name and exact size (checked against the upload size limits)',
          requestBody: { required: true, content: json(ref('CreateUpload')) },
          responses: {
            '201': {
              description: 'The session, at offset 0; `Location` is its URL',
              headers: uploadHeaders,
              content: json(ref('UploadSession')),
            },
            ...problems(400, 413, 503),
          },
        },
      },
      '/v1/uploads/{id}': {
        get: {
          tags: ['uploads'],
          summary: 'The offset reached, size and expiry (HEAD answers the same headers without a body)',
          parameters: [uploadIdParameter],
          responses: {
            '200': {
              description: 'The session',
              headers: uploadHeaders,
              content: json(ref('UploadSession')),
            },
            ...problems(404, 503),
          },
        },
        patch: {
          tags: ['uploads'],
          summary:
            'Append bytes at `Upload-Offset`; they count only once the whole body arrived (a cut PATCH leaves nothing)',
          parameters: [
            uploadIdParameter,
            {
              name: 'Upload-Offset',
              in: 'header',
              required: true,
              description: 'Where these bytes start: the offset the server answered last',
              schema: { type: 'integer', minimum: 0 },
            },
          ],
          requestBody: {
            required: true,
            content: { [UPLOAD_PATCH_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary' } } },
          },
          responses: {
            '204': { description: 'Stored; `Upload-Offset` is the new offset', headers: uploadHeaders },
            ...problems(400, 404, 409, 413, 503),
          },
        },
        delete: {
          tags: ['uploads'],
          summary: 'Terminate the upload and delete its bytes',
          parameters: [uploadIdParameter],
          responses: { '204': { description: 'Removed' }, ...problems(404, 503) },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          tags: ['jobs'],
          summary: 'One job',
          parameters: [
            jobIdParameter,
            { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'The job',
              headers: { ETag: { schema: { type: 'string' } } },
              content: json(ref('Job')),
            },
            '304': { description: 'Unchanged since the ETag sent' },
            ...problems(404, 503),
          },
        },
        delete: {
          tags: ['jobs'],
          summary: 'Delete the job, its input and outputs (a running job is cancelled first)',
          parameters: [jobIdParameter],
          responses: { '204': { description: 'Deleted' }, ...problems(404, 409, 503) },
        },
      },
      '/v1/jobs/{id}/cancel': {
        post: {
          tags: ['jobs'],
          summary: 'Cancel a queued or running job',
          parameters: [jobIdParameter],
          responses: {
            '200': { description: 'Cancelled', content: json(ref('Job')) },
            '202': { description: 'Its worker is stopping it', content: json(ref('Job')) },
            ...problems(404, 409, 503),
          },
        },
      },
      '/v1/jobs/{id}/retry': {
        post: {
          tags: ['jobs'],
          summary: 'Run a FAILED or CANCELLED job again as a new linked job, optionally with new options',
          parameters: [jobIdParameter],
          requestBody: { required: false, content: json(ref('RetryBody')) },
          responses: {
            '201': { description: 'The new job', content: json(ref('Job')) },
            ...problems(400, 404, 409, 503),
          },
        },
      },
      '/v1/jobs/{id}/input': {
        get: {
          tags: ['jobs'],
          summary: 'The original upload',
          parameters: [jobIdParameter],
          responses: {
            '200': { description: 'The file', content: { '*/*': { schema: { type: 'string' } } } },
            '302': signedUrlRedirect,
            ...problems(404, 503),
          },
        },
      },
      '/v1/jobs/{id}/result': {
        get: {
          tags: ['jobs'],
          summary: 'A result, in one of the formats listed in the job’s `outputs`',
          parameters: [
            jobIdParameter,
            {
              name: 'format',
              in: 'query',
              schema: { type: 'string', enum: [...OUTPUT_FORMATS], default: 'txt' },
            },
          ],
          responses: {
            '200': { description: 'The result', content: { '*/*': { schema: { type: 'string' } } } },
            '302': signedUrlRedirect,
            ...problems(400, 404, 409, 503),
          },
        },
      },
      '/v1/jobs/{id}/events': {
        get: {
          tags: ['events'],
          summary: 'Live changes of one job (Server-Sent Events), starting with its current state',
          parameters: [jobIdParameter, lastEventIdHeader],
          responses: { '200': eventStream, ...problems(404, 503) },
        },
      },
      '/v1/events': {
        get: {
          tags: ['events'],
          summary: "Live changes of all the caller's jobs (Server-Sent Events)",
          parameters: [lastEventIdHeader],
          responses: { '200': eventStream, ...problems(503) },
        },
      },
      '/v1/admin/jobs': {
        get: {
          tags: ['admin'],
          summary:
            "Every owner's jobs, newest first, with counts and each job's owner_id; filters and cursor paging as GET /v1/jobs; admin only",
          parameters: [
            ...historyFilterParameters,
            {
              name: 'owner',
              in: 'query',
              description: "Only this user's jobs (their user id, `owner_id`)",
              schema: { type: 'string', minLength: 1, maxLength: 200 },
            },
            ...pageParameters,
          ],
          responses: {
            '200': { description: 'A page', content: json(ref('AdminJobList')) },
            ...problems(400, 403, 503),
          },
        },
      },
      '/v1/admin/overview': {
        get: {
          tags: ['admin'],
          summary:
            'Operations overview: queues, per-minute throughput and failures by error code over the last 60 minutes, workers, dependencies; admin only',
          responses: {
            '200': { description: 'The overview', content: json(ref('AdminOverview')) },
            ...problems(403, 503),
          },
        },
      },
      '/v1/admin/queues': {
        get: {
          tags: ['admin'],
          summary:
            'Every queue: depths, pause state, concurrency, completed/failed per minute (5 and 60 minutes), workers online; admin only',
          responses: {
            '200': { description: 'Queues', content: json(ref('AdminQueues')) },
            ...problems(403, 503),
          },
        },
      },
      '/v1/admin/queues/{queue}/pause': {
        post: {
          tags: ['admin'],
          summary: 'Pause a queue for every worker: waiting jobs stay QUEUED, running ones finish',
          parameters: [queueParameter],
          responses: { '200': queueState, ...problems(403, 404, 503) },
        },
      },
      '/v1/admin/queues/{queue}/resume': {
        post: {
          tags: ['admin'],
          summary: 'Resume a paused queue',
          parameters: [queueParameter],
          responses: { '200': queueState, ...problems(403, 404, 503) },
        },
      },
      '/v1/admin/queues/{queue}/concurrency': {
        put: {
          tags: ['admin'],
          summary:
            'Set jobs run at once per worker (applied at once by every worker, kept for new ones) and/or the cap across all workers (`global`, 0 removes it)',
          parameters: [queueParameter],
          requestBody: { required: true, content: json(ref('SetConcurrency')) },
          responses: {
            '200': { description: 'What was set', content: json(ref('SetConcurrency')) },
            ...problems(400, 403, 404, 503),
          },
        },
      },
      '/v1/admin/access': {
        get: {
          tags: ['admin'],
          summary:
            'Access lists: stored (set here), from the configuration, and effective (their union); admin only',
          responses: {
            '200': { description: 'The lists', content: json(ACCESS_VIEW_SCHEMA) },
            ...problems(503),
          },
        },
        put: {
          tags: ['admin'],
          summary:
            'Replace the stored access lists; applied on the next request by every replica; admin only',
          requestBody: { required: true, content: json(ACCESS_LISTS_SCHEMA) },
          responses: {
            '200': { description: 'The lists now', content: json(ACCESS_VIEW_SCHEMA) },
            ...problems(400, 503),
          },
        },
      },
      '/v1/admin/dead-letters': {
        get: {
          tags: ['admin'],
          summary: 'Dead letters (jobs that ended FAILED), newest first; admin only',
          parameters: [
            { name: 'error_code', in: 'query', schema: ref('ErrorCode') },
            { name: 'queue', in: 'query', schema: { type: 'string' } },
            { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            },
          ],
          responses: {
            '200': { description: 'A page', content: json(ref('DeadLetterList')) },
            ...problems(400, 503),
          },
        },
        delete: {
          tags: ['admin'],
          summary: 'Purge dead letters written before `until` (all when absent); their jobs stay FAILED',
          parameters: [{ name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } }],
          responses: {
            '200': { description: 'How many were purged', content: json(ref('PurgeResult')) },
            ...problems(400, 503),
          },
        },
      },
      '/v1/admin/dead-letters/replay': {
        post: {
          tags: ['admin'],
          summary: 'Replay several dead-lettered jobs (FAILED → QUEUED); replaying a queued job is a no-op',
          requestBody: { required: true, content: json(ref('ReplayDeadLetters')) },
          responses: {
            '200': { description: 'The outcome per job', content: json(ref('ReplayResult')) },
            ...problems(400, 503),
          },
        },
      },
      '/v1/admin/dead-letters/{id}': {
        get: {
          tags: ['admin'],
          summary: 'One dead letter with its attempt history and original request',
          parameters: [jobIdParameter],
          responses: {
            '200': { description: 'The dead letter', content: json(ref('DeadLetter')) },
            ...problems(404, 503),
          },
        },
        delete: {
          tags: ['admin'],
          summary: 'Purge one dead letter; the job stays FAILED',
          parameters: [jobIdParameter],
          responses: { '204': { description: 'Purged' }, ...problems(404, 503) },
        },
      },
      '/v1/admin/dead-letters/{id}/replay': {
        post: {
          tags: ['admin'],
          summary: 'Replay one dead-lettered job: the same job goes back to QUEUED',
          parameters: [jobIdParameter],
          responses: {
            '200': { description: 'The outcome', content: json(ref('ReplayResult')) },
            ...problems(404, 503),
          },
        },
      },

      '/v1/admin/flags': {
        get: {
          tags: ['admin'],
          summary: 'Every feature flag: value now, start value, whether an override is in force',
          responses: {
            '200': { description: 'The flags', content: json(ref('FeatureFlagList')) },
            ...problems(403, 503),
          },
        },
      },
      '/v1/admin/flags/{name}': {
        put: {
          tags: ['admin'],
          summary: 'Override a flag in every process of the deployment, without a restart',
          parameters: [flagNameParameter],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              properties: { enabled: { type: 'boolean' } },
              required: ['enabled'],
            }),
          },
          responses: {
            '200': { description: 'The flag', content: json(ref('FeatureFlag')) },
            ...problems(400, 403, 404, 503),
          },
        },
        delete: {
          tags: ['admin'],
          summary: 'Drop the override: the flag goes back to its start value (env or default)',
          parameters: [flagNameParameter],
          responses: {
            '200': { description: 'The flag', content: json(ref('FeatureFlag')) },
            ...problems(403, 404, 503),
          },
        },
      },
      '/v1/config': {
        get: {
          tags: ['operations'],
          summary:
            'What the web page may know of the configuration: its public feature flags and the engines jobs may name',
          responses: {
            '200': {
              description: 'Public flags and offered engines',
              content: json({
                type: 'object',
                properties: {
                  flags: { type: 'object', additionalProperties: { type: 'boolean' } },
                  engines: {
                    type: 'object',
                    description:
                      'Engines `ocr_engine` and `transcription_engine` may name here (the default plus every configured one)',
                    properties: {
                      ocr: { type: 'array', items: { type: 'string', enum: [...OCR_ENGINES] } },
                      transcription: { type: 'array', items: { type: 'string', enum: [...SPEECH_ENGINES] } },
                      default_ocr: { type: 'string', enum: [...OCR_ENGINES] },
                      default_transcription: { type: 'string', enum: [...SPEECH_ENGINES] },
                    },
                    required: ['ocr', 'transcription', 'default_ocr', 'default_transcription'],
                  },
                },
              }),
            },
            ...problems(401, 503),
          },
        },
      },
      '/upload': {
        post: {
          tags: ['legacy'],
          security: [{ bearer: [] }, { apiKey: [] }],
          summary: 'Earlier API: submit a file (the fields of POST /v1/jobs; `job_type` may be lower case)',
          requestBody: {
            required: true,
            content: { 'multipart/form-data': { schema: ref('SubmitFields') } },
          },
          responses: { '201': legacyJobResponse, ...legacyErrors },
        },
      },
      '/status/{job_id}': {
        get: {
          tags: ['legacy'],
          security: [{ bearer: [] }, { apiKey: [] }],
          summary: 'Earlier API: one job, with the earlier field names',
          parameters: [legacyJobIdParameter],
          responses: { '200': legacyJobResponse, ...legacyErrors },
        },
      },
      '/jobs': {
        get: {
          tags: ['legacy'],
          security: [{ bearer: [] }, { apiKey: [] }],
          summary: 'Earlier API: the caller’s jobs (query as GET /v1/jobs)',
          responses: {
            '200': {
              description: 'A page of jobs',
              content: json({
                type: 'object',
                properties: {
                  jobs: { type: 'array', items: ref('LegacyJob') },
                  count: { type: 'integer' },
                  counts: { type: 'object' },
                  next_cursor: { type: ['string', 'null'] },
                },
              }),
            },
            ...legacyErrors,
          },
        },
      },
      '/jobs/{job_id}/cancel': {
        post: {
          tags: ['legacy'],
          security: [{ bearer: [] }, { apiKey: [] }],
          summary: 'Earlier API: cancel a job',
          parameters: [legacyJobIdParameter],
          responses: { '200': legacyJobResponse, '202': legacyJobResponse, ...legacyErrors },
        },
      },
      '/jobs/{job_id}/retry': {
        post: {
          tags: ['legacy'],
          security: [{ bearer: [] }, { apiKey: [] }],
          summary: 'Earlier API: retry a failed or cancelled job as a new job',
          parameters: [legacyJobIdParameter],
          responses: { '201': legacyJobResponse, ...legacyErrors },
        },
      },
      '/contract/job-status': {
        get: {
          tags: ['legacy'],
          summary: 'Earlier API: contract version, job types, statuses and field names',
          responses: {
            '200': { description: 'The earlier contract', content: json({ type: 'object' }) },
            ...legacyErrors,
          },
        },
      },
    }),
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'An OpenID Connect token from the configured issuer whose audience is this service’s client id, or an API key (`dt_…`)',
        },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (`dt_…`)' },
      },
      schemas: {
        AdminOverview: componentOf(adminOverviewSchema),
        AdminQueues: componentOf(adminQueuesSchema),
        SetConcurrency: componentOf(setConcurrencyBodySchema, 'input'),
        DeadLetter: componentOf(deadLetterSchema),
        DeadLetterList: componentOf(deadLetterListSchema),
        ReplayDeadLetters: componentOf(replayDeadLettersBodySchema, 'input'),
        ReplayResult: componentOf(replayResultSchema),
        PurgeResult: componentOf(purgeResultSchema),
        Job: componentOf(jobSchema),
        SubmittedJob: componentOf(submittedJobSchema),
        JobList: componentOf(jobListSchema),
        AdminJobList: componentOf(adminJobListSchema),
        SubmitFields: componentOf(submitJobFieldsSchema, 'input'),
        SubmitFromUpload: componentOf(submitFromUploadBodySchema, 'input'),
        CreateUpload: componentOf(createUploadBodySchema, 'input'),
        UploadSession: componentOf(uploadSessionSchema),
        QueuesOverview: componentOf(queuesOverviewSchema),
        PrecheckRequest: componentOf(precheckRequestSchema, 'input'),
        PrecheckResult: componentOf(precheckResultSchema),
        RetryBody: componentOf(retryJobBodySchema, 'input'),
        CreateApiKey: componentOf(createApiKeySchema, 'input'),
        CreatedApiKey: componentOf(createdApiKeySchema),
        AuthConfig: componentOf(authConfigSchema),
        TokenRequest: componentOf(tokenRequestSchema, 'input'),
        TokenSet: componentOf(tokenSetSchema),
        WhoAmI: componentOf(whoAmISchema),
        ApiKeyList: componentOf(apiKeyListSchema),
        PutWebhook: componentOf(putWebhookBodySchema, 'input'),
        Webhook: componentOf(webhookSchema),
        SavedWebhook: componentOf(savedWebhookSchema),
        WebhookDeliveryList: componentOf(webhookDeliveryListSchema),
        WebhookPayload: componentOf(webhookPayloadSchema),
        OpenAiTranscription: componentOf(openAiTranscriptionSchema),
        OpenAiVerboseTranscription: componentOf(openAiVerboseTranscriptionSchema),
        OpenAiPending: componentOf(openAiPendingSchema),
        OpenAiError: componentOf(openAiErrorSchema),
        Problem: componentOf(problemSchema),
        FeatureFlag: featureFlagComponent,
        FeatureFlagList: {
          type: 'object',
          properties: { flags: { type: 'array', items: ref('FeatureFlag') } },
        },
        LegacyJob: legacyJobComponent,
        LegacyError: {
          type: 'object',
          properties: Object.fromEntries(
            ['error_code', 'error_message', 'detail', 'path', 'request_id'].map((name) => [
              name,
              { type: 'string' },
            ]),
          ),
        },
        ErrorCode: { type: 'string', enum: ERROR_CODES },
      },
    },
  };
}

/** `/v1/jobs/:id` → `/v1/jobs/{id}`: how Fastify and OpenAPI write the same path. */
export function toOpenApiPath(fastifyUrl: string): string {
  return fastifyUrl.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}
