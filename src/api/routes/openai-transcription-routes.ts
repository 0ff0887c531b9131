import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type OfferedEngines, speechEngineOfModel } from '../../config/index.js';
import {
  AppError,
  ERROR_CATALOG,
  type ErrorCode,
  isErrorCode,
  type JobType,
  type OpenAiError,
  type OpenAiResponseFormat,
  openAiTranscriptionFieldsSchema,
  transcriptionOptionsFromFields,
} from '../../contract/index.js';
import type { JobEventFeed } from '../../jobs/job-event-feed.js';
import type { JobRecord } from '../../jobs/job-record.js';
import type { JobService } from '../../jobs/job-service.js';
import type { SubmitQuota } from '../../jobs/submit-quota.js';
import { waitForFinalStatus } from '../../jobs/wait-for-final-status.js';
import { errorFields } from '../../observability/logger.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { InputComplexityLimits } from '../check-input-complexity.js';
import { principalOf } from '../principal.js';
import { toAppError } from '../problem-details.js';
import { receiveUpload, uploadUsage, uploadWarnings } from '../receive-upload.js';
import { idempotencyKeyOf } from './jobs-routes.js';
import { parseOrThrow } from './route-params.js';

export interface OpenAiTranscriptionDeps {
  jobs: JobService;
  storage: ObjectStorage;
  feed: JobEventFeed;
  quota: SubmitQuota;
  maxUploadBytes: number;
  maxUploadBytesByType?: Readonly<Record<JobType, number>> | undefined;
  isRedisReady: () => boolean;
  openaiCompat: { waitMs: number };
  /** `model` may name one of these speech engines (offeredEngines). */
  engines: Pick<OfferedEngines, 'ocr' | 'speech'>;
  /** Pixels, pages and recording length refused at upload; absent: left to the worker. */
  inputComplexity?: InputComplexityLimits | undefined;
}

/** How our segments JSON output looks (pipelines/transcription/render-transcript-outputs.ts). */
interface StoredTranscript {
  media_duration_sec: number;
  language?: string;
  segments: Array<{ start: number; end: number; text: string; confidence: number | null }>;
}

/** verbose_json names the language in words, as Whisper does. */
const LANGUAGE_NAMES: Record<string, string> = {
  en: 'english',
  hi: 'hindi',
  sa: 'sanskrit',
  mr: 'marathi',
  gu: 'gujarati',
  bn: 'bengali',
  pa: 'punjabi',
  ta: 'tamil',
  te: 'telugu',
  ur: 'urdu',
  ne: 'nepali',
};

/**
 * Our catalog error in OpenAI's envelope: `type` by status class (`model_not_found` for a model
 * this server does not offer, as OpenAI's own answer names it), `code` the catalog code.
 */
export function openAiErrorOf(error: AppError): OpenAiError {
  const status = ERROR_CATALOG[error.code].status;
  const fieldErrors = error.details?.errors;
  const param =
    Array.isArray(fieldErrors) && typeof (fieldErrors[0] as { field?: unknown })?.field === 'string'
      ? (fieldErrors[0] as { field: string }).field || null
      : null;
  const type =
    error.code === 'ENGINE_NOT_OFFERED'
      ? 'model_not_found'
      : status === 401 || status === 403
        ? 'authentication_error'
        : status === 429
          ? 'rate_limit_error'
          : status >= 500
            ? 'server_error'
            : 'invalid_request_error';
  return { error: { message: error.message, type, param, code: error.code } };
}

function sendOpenAiError(reply: FastifyReply, error: AppError): FastifyReply {
  const retryAfter = error.details?.retry_after_sec;
  if (typeof retryAfter === 'number') reply.header('retry-after', retryAfter);
  return reply
    .code(ERROR_CATALOG[error.code].status)
    .type('application/json; charset=utf-8')
    .send(openAiErrorOf(error));
}

/**
 * `POST /v1/audio/transcriptions`, the OpenAI transcription API over the normal job pipeline:
 * the upload becomes a TRANSCRIPTION job, the answer waits for it (woken by the job event feed)
 * up to OPENAI_COMPAT_WAIT_MS and is shaped as OpenAI's. Errors, authentication refusals included,
 * come in OpenAI's envelope; a job still running at the deadline is answered 202 with its id.
 */
export async function registerOpenAiTranscriptionRoutes(
  app: FastifyInstance,
  deps: OpenAiTranscriptionDeps,
): Promise<void> {
  await app.register((scope, _options, done) => {
    scope.setErrorHandler((error, request, reply) => {
      const appError = toAppError(error, () => !deps.isRedisReady());
      const log = { event: 'http.error', error_code: appError.code, ...errorFields(error) };
      if (appError.httpStatus >= 500) request.log.error(log, 'request failed');
      else request.log.info(log, 'request rejected');
      return sendOpenAiError(reply, appError);
    });

    scope.post('/v1/audio/transcriptions', async (request, reply) => {
      const principal = principalOf(request);
      const idempotencyKey = idempotencyKeyOf(request.headers['idempotency-key']);
      let responseFormat: OpenAiResponseFormat = 'json';
      const release = await deps.quota.reserve(principal.userId);
      let created = false;
      let record: JobRecord;
      try {
        ({ record } = await deps.jobs.submitOnce(
          { ownerId: principal.userId, requestId: request.id, idempotencyKey },
          async (jobId) => {
            const upload = await receiveUpload(request, {
              storage: deps.storage,
              jobId,
              maxBytes: deps.maxUploadBytes,
              maxBytesByType: deps.maxUploadBytesByType,
              complexity: deps.inputComplexity,
              log: request.log,
            });
            const fields = parseOrThrow(openAiTranscriptionFieldsSchema, upload.fields);
            // OpenAI's names run the configured engine; an engine's own name runs that engine.
            const engine = speechEngineOfModel(deps.engines, fields.model);
            if (upload.file.input.jobType !== 'TRANSCRIPTION') {
              throw new AppError(
                'JOB_TYPE_MISMATCH',
                `The file is ${upload.file.input.mime}, not a recording; documents go to POST /v1/jobs.`,
              );
            }
            responseFormat = fields.response_format;
            return {
              filename: upload.file.filename,
              mime: upload.file.input.mime,
              jobType: 'TRANSCRIPTION',
              sizeBytes: upload.file.sizeBytes,
              sha256: upload.file.sha256,
              contentSubtype: 'general',
              language: fields.language,
              transcriptionOptions: transcriptionOptionsFromFields({ transcription_engine: engine }),
              ...uploadWarnings(upload.file),
              ...uploadUsage(upload.file),
              fields: { ...fields, route: 'openai' },
            };
          },
        ));
        created = true;
      } finally {
        await release(created);
      }

      const finished = await waitForFinalStatus(
        deps.feed,
        () => deps.jobs.find(record.job_id, principal.userId),
        principal.userId,
        record.job_id,
        deps.openaiCompat.waitMs,
      );
      if (!finished) {
        const current = await deps.jobs.get(record.job_id, principal.userId);
        const resultFormat = { json: 'json', verbose_json: 'json', text: 'txt', srt: 'srt', vtt: 'vtt' }[
          responseFormat
        ];
        return reply
          .code(202)
          .header('location', `/v1/jobs/${record.job_id}`)
          .send({
            job_id: record.job_id,
            status: current.status,
            status_url: `/v1/jobs/${record.job_id}`,
            result_url: `/v1/jobs/${record.job_id}/result?format=${resultFormat}`,
          });
      }
      if (finished.status !== 'COMPLETED') {
        const code: ErrorCode =
          finished.error_code && isErrorCode(finished.error_code) ? finished.error_code : 'INTERNAL_ERROR';
        throw new AppError(
          code,
          `Job ${finished.job_id} ended ${finished.status}: ${finished.error_message ?? ''}`.trim(),
        );
      }
      return answer(reply, deps, finished, responseFormat);
    });
    done();
  });
}

async function readOutput(deps: OpenAiTranscriptionDeps, record: JobRecord, format: 'json' | 'srt' | 'vtt') {
  // Asked without download headers, the result is always streamed, never a redirect.
  const opened = await deps.jobs.openResult(record.job_id, record.owner_id, format);
  if (!('body' in opened) || !opened.body) throw new Error('result opened without a body');
  return text(opened.body as Readable);
}

async function answer(
  reply: FastifyReply,
  deps: OpenAiTranscriptionDeps,
  record: JobRecord,
  format: OpenAiResponseFormat,
): Promise<FastifyReply> {
  reply.header('x-job-id', record.job_id);
  if (format === 'srt' || format === 'vtt') {
    return reply
      .type(format === 'srt' ? 'text/plain; charset=utf-8' : 'text/vtt; charset=utf-8')
      .send(await readOutput(deps, record, format));
  }
  const transcript = JSON.parse(await readOutput(deps, record, 'json')) as StoredTranscript;
  const fullText = transcript.segments
    .map((segment) => segment.text)
    .join(' ')
    .trim();
  if (format === 'text') return reply.type('text/plain; charset=utf-8').send(`${fullText}\n`);
  if (format === 'json') return reply.type('application/json; charset=utf-8').send({ text: fullText });
  const language = record.language.split(/[+-]/)[0] ?? record.language;
  return reply.type('application/json; charset=utf-8').send({
    task: 'transcribe',
    language: LANGUAGE_NAMES[language] ?? language,
    duration: transcript.media_duration_sec,
    text: fullText,
    segments: transcript.segments.map((segment, id) => ({
      id,
      seek: 0,
      start: segment.start,
      end: segment.end,
      text: segment.text,
      tokens: [],
      temperature: 0,
      // Whisper's log-probability scale; from the engine's 0–1 confidence when it gives one.
      avg_logprob: segment.confidence && segment.confidence > 0 ? Math.log(segment.confidence) : 0,
      compression_ratio: 1,
      no_speech_prob: 0,
    })),
  });
}
