import { hash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { assertEngineOffered, type OfferedEngines } from '../../config/index.js';
import {
  AppError,
  type JobType,
  listJobsQuerySchema,
  OUTPUT_FORMATS,
  OUTPUT_MEDIA_TYPES,
  ocrOptionsFromFields,
  type RetryJobBody,
  retryJobBodySchema,
  submitJobFieldsSchema,
  transcriptionOptionsFromFields,
} from '../../contract/index.js';
import type { JobService, RetryOverrides, Submission } from '../../jobs/job-service.js';
import type { SubmitQuota } from '../../jobs/submit-quota.js';
import type { UploadSessionStore } from '../../jobs/upload-sessions.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import { checkWebhookTarget } from '../../webhooks/check-webhook-target.js';
import type { WebhookStore } from '../../webhooks/webhook-store.js';
import type { InputComplexityLimits } from '../check-input-complexity.js';
import { contentDisposition, resultFilename } from '../content-disposition.js';
import { principalOf, requireAdmin } from '../principal.js';
import { UploadSessionConsumption } from '../receive-from-upload-session.js';
import { type FormFields, type ReceivedUpload, receiveUpload, uploadWarnings } from '../receive-upload.js';
import { jobIdOf, parseOrThrow } from './route-params.js';

export interface JobsRoutesDeps {
  jobs: JobService;
  /** `ocr_engine` and `transcription_engine` must name one of these (offeredEngines). */
  engines: Pick<OfferedEngines, 'ocr' | 'speech'>;
  storage: ObjectStorage;
  maxUploadBytes: number;
  /** UPLOAD_MAX_BYTES_OCR / _TRANSCRIPTION: each at most maxUploadBytes. */
  maxUploadBytesByType?: Readonly<Record<JobType, number>>;
  /** Per-user active and daily job limits, taken before the upload is read. */
  quota: SubmitQuota;
  webhooks: WebhookStore;
  webhookTargets: { allowPrivate: boolean };
  /** Resumable upload sessions a JSON submit names by `upload_id`. */
  uploads: UploadSessionStore;
  /** Image pixels and PDF pages refused at upload (INPUT_TOO_COMPLEX); absent: left to the worker. */
  inputComplexity?: InputComplexityLimits;
}

/**
 * A per-job callback is refused at submit when its target is private (the delivery checks again)
 * or when the caller has no signing secret to sign it with.
 */
export async function checkJobCallback(
  deps: Pick<JobsRoutesDeps, 'webhooks' | 'webhookTargets'>,
  ownerId: string,
  url: string | undefined,
): Promise<string | undefined> {
  if (!url) return undefined;
  const checked = await checkWebhookTarget(url, deps.webhookTargets.allowPrivate);
  if (!(await deps.webhooks.signingTarget(ownerId))) throw new AppError('WEBHOOK_SECRET_MISSING');
  return checked.href;
}

const resultQuerySchema = z.object({ format: z.enum(OUTPUT_FORMATS).default('txt') });
/** The retry body as the job service takes it: the options grouped as they are stored on the job. */
export function retryOverridesOf(body: RetryJobBody): RetryOverrides {
  const { content_subtype, language, ocr_engine, transcription_engine, txt_timestamps, ...numbers } = body;
  const ocr = {
    ...ocrOptionsFromFields({ ...body, ocr_engine: ocr_engine ?? undefined }),
    ...(ocr_engine === null ? { engine: null } : {}),
  };
  const transcription = {
    ...transcriptionOptionsFromFields({
      ...numbers,
      transcription_engine: transcription_engine ?? undefined,
      txt_timestamps,
    }),
    ...(transcription_engine === null ? { engine: null } : {}),
  };
  return {
    content_subtype,
    language,
    ocrOptions: Object.keys(ocr).length > 0 ? ocr : undefined,
    transcriptionOptions: Object.keys(transcription).length > 0 ? transcription : undefined,
  };
}

/**
 * The Idempotency-Key header: a plain token (as Stripe takes it) or the draft standard's quoted
 * sf-string; 1–255 visible ASCII characters either way.
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header.join(',') : header;
  const value = /^"(.*)"$/.test(raw) ? raw.slice(1, -1) : raw;
  if (!/^[\x21-\x7e]{1,255}$/.test(value)) throw new AppError('IDEMPOTENCY_KEY_INVALID');
  return value;
}

function ifNoneMatchIncludes(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const candidate = tag.trim();
    return candidate === '*' || candidate === etag || candidate === `W/${etag}`;
  });
}

/**
 * The JSON form of `POST /v1/jobs`: `upload_id` and the job fields of the multipart form. JSON
 * numbers and booleans are read as the form's strings, so both forms validate (and fingerprint
 * for Idempotency-Key) alike; the fields are checked before the upload is touched.
 */
function uploadRequestOf(body: unknown): { uploadId: string; fields: Record<string, string> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError(
      'REQUEST_BODY_INVALID',
      'Send multipart/form-data with a "file" field, or JSON naming a complete upload in "upload_id".',
    );
  }
  const { upload_id: uploadId, ...rest } = body as Record<string, unknown>;
  const fields: Record<string, string> = {};
  const errors: Array<{ field: string; message: string }> = [];
  if (typeof uploadId !== 'string' || uploadId === '') {
    errors.push({ field: 'upload_id', message: 'the id of a complete upload (POST /v1/uploads)' });
  }
  for (const [name, value] of Object.entries(rest)) {
    if (typeof value === 'string') fields[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') fields[name] = String(value);
    else if (value !== null && value !== undefined)
      errors.push({ field: name, message: 'a string, number or boolean' });
  }
  if (errors.length > 0) {
    throw new AppError('VALIDATION_FAILED', errors.map((e) => `${e.field}: ${e.message}`).join('; '), {
      details: { errors },
    });
  }
  parseOrThrow(submitJobFieldsSchema, fields);
  return { uploadId: uploadId as string, fields };
}

/** What a stored upload and its request fields make: the job's input and options. */
async function submissionOf(
  deps: JobsRoutesDeps,
  request: FastifyRequest,
  ownerId: string,
  jobId: string,
  file: ReceivedUpload['file'],
  rawFields: FormFields,
): Promise<Submission> {
  if (file.extensionWarning) {
    request.log.warn(
      { event: 'upload.extension_differs', job_id: jobId, mime: file.input.mime },
      file.extensionWarning,
    );
  }
  const fields = parseOrThrow(submitJobFieldsSchema, rawFields);
  if (fields.job_type && fields.job_type !== file.input.jobType) {
    throw new AppError(
      'JOB_TYPE_MISMATCH',
      `job_type ${fields.job_type} was requested but the file is ${file.input.mime} (${file.input.jobType}).`,
    );
  }
  if (file.input.jobType === 'OCR') {
    assertEngineOffered(deps.engines, 'ocr', fields.ocr_engine, 'ocr_engine');
  } else {
    assertEngineOffered(deps.engines, 'speech', fields.transcription_engine, 'transcription_engine');
  }
  const callbackUrl = await checkJobCallback(deps, ownerId, fields.callback_url);
  return {
    callbackUrl,
    ...uploadWarnings(file),
    filename: file.filename,
    mime: file.input.mime,
    jobType: file.input.jobType,
    sizeBytes: file.sizeBytes,
    sha256: file.sha256,
    contentSubtype: fields.content_subtype,
    language: fields.language,
    ocrOptions: ocrOptionsFromFields(fields),
    transcriptionOptions: transcriptionOptionsFromFields(fields),
    fields,
  };
}

/** Judged against the job an Idempotency-Key already made; never made into a job (inputStored false). */
function replayOnlySubmission(sha256: string, rawFields: Record<string, string>): Submission {
  const fields = parseOrThrow(submitJobFieldsSchema, rawFields);
  return {
    filename: '',
    mime: '',
    jobType: 'OCR',
    sizeBytes: 0,
    sha256,
    contentSubtype: fields.content_subtype,
    language: fields.language,
    fields,
    inputStored: false,
  };
}

export function registerJobsRoutes(app: FastifyInstance, deps: JobsRoutesDeps): void {
  app.post('/v1/jobs', async (request, reply) => {
    const principal = principalOf(request);
    const idempotencyKey = idempotencyKeyOf(request.headers['idempotency-key']);
    // JSON names a complete resumable upload (POST /v1/uploads); otherwise the file comes in the form.
    const isJson = /^application\/(.+\+)?json\b/i.test(request.headers['content-type'] ?? '');
    const fromUpload = request.isMultipart() ? null : uploadRequestOf(isJson ? request.body : undefined);
    const consumption = fromUpload
      ? new UploadSessionConsumption(
          {
            uploads: deps.uploads,
            storage: deps.storage,
            limits: {
              maxBytes: deps.maxUploadBytes,
              maxBytesByType: deps.maxUploadBytesByType,
              complexity: deps.inputComplexity,
            },
            log: request.log,
          },
          fromUpload.uploadId,
          principal.userId,
        )
      : null;
    const release = await deps.quota.reserve(principal.userId);
    let created = false;
    let made = false;
    try {
      const { record, reused } = await deps.jobs.submitOnce(
        { ownerId: principal.userId, requestId: request.id, idempotencyKey },
        async (jobId, replay) => {
          if (!consumption || !fromUpload) {
            const upload = await receiveUpload(request, {
              storage: deps.storage,
              jobId,
              maxBytes: deps.maxUploadBytes,
              maxBytesByType: deps.maxUploadBytesByType,
              complexity: deps.inputComplexity,
              log: request.log,
            });
            return submissionOf(deps, request, principal.userId, jobId, upload.file, upload.fields);
          }
          const received = await consumption.receive(jobId, replay);
          if (!received.stored) return replayOnlySubmission(received.sha256, fromUpload.fields);
          return submissionOf(deps, request, principal.userId, jobId, received.file, fromUpload.fields);
        },
      );
      made = true;
      created = !reused;
      await consumption?.succeeded(record.job_id).catch((error: unknown) =>
        // The job exists and is answered; the parts go with the session's expiry at the latest.
        request.log.warn(
          {
            event: 'upload.session_finish_failed',
            upload_id: consumption.uploadId,
            job_id: record.job_id,
            err: error,
          },
          'job made, but its upload session could not be closed',
        ),
      );
      const job = await deps.jobs.view(record);
      if (reused) reply.header('idempotent-replayed', 'true');
      return reply
        .code(reused ? 200 : 201)
        .header('location', `/v1/jobs/${record.job_id}`)
        .send({ ...job, reused });
    } catch (error) {
      // Once the job exists the session is its input: never handed back for a second job.
      if (!made) await consumption?.failed(error);
      throw error;
    } finally {
      // A replay or a refused upload made no job: its daily unit is given back.
      await release(created);
    }
  });

  app.get('/v1/jobs', async (request) => {
    const query = parseOrThrow(listJobsQuerySchema, request.query);
    return deps.jobs.list(principalOf(request).userId, query);
  });

  app.get('/v1/jobs/:id', async (request, reply) => {
    const job = await deps.jobs.view(
      await deps.jobs.get(jobIdOf(request.params), principalOf(request).userId),
    );
    const body = JSON.stringify(job);
    // One-shot hash: building a Hash object per poll cost ~5 % of this route's CPU.
    const etag = `"${hash('sha256', body, 'base64url').slice(0, 27)}"`;
    reply.header('etag', etag).header('cache-control', 'private, no-cache');
    // Pollers send the last ETag back and get an empty 304 until something changes.
    if (ifNoneMatchIncludes(request.headers['if-none-match'], etag)) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(body);
  });

  app.post('/v1/jobs/:id/retry', async (request, reply) => {
    const body = parseOrThrow(retryJobBodySchema, request.body ?? {});
    // A changed engine must be one offered here (null goes back to the configured one).
    assertEngineOffered(deps.engines, 'ocr', body.ocr_engine, 'ocr_engine');
    assertEngineOffered(deps.engines, 'speech', body.transcription_engine, 'transcription_engine');
    const overrides = retryOverridesOf(body);
    const ownerId = principalOf(request).userId;
    // A retry is a new job: it counts against the quotas like any submit.
    const release = await deps.quota.reserve(ownerId);
    let created = false;
    try {
      const record = await deps.jobs.retry(jobIdOf(request.params), ownerId, request.id, overrides);
      created = true;
      return reply
        .code(201)
        .header('location', `/v1/jobs/${record.job_id}`)
        .send(await deps.jobs.view(record));
    } finally {
      await release(created);
    }
  });

  app.delete('/v1/jobs/:id', async (request, reply) => {
    await deps.jobs.delete(jobIdOf(request.params), principalOf(request).userId, request.id);
    return reply.code(204).send();
  });

  app.get('/v1/jobs/:id/input', async (request, reply) => {
    const opened = await deps.jobs.openInput(
      jobIdOf(request.params),
      principalOf(request).userId,
      (record) => ({
        contentDisposition: contentDisposition(record.input_filename),
        contentType: record.input_mime,
      }),
    );
    if (opened.redirectUrl !== undefined) return reply.redirect(opened.redirectUrl, 302);
    const { record, body } = opened;
    return reply
      .type(record.input_mime)
      .header('content-length', record.input_size_bytes)
      .header('content-disposition', contentDisposition(record.input_filename))
      .header('cache-control', 'private, max-age=0, must-revalidate')
      .send(body);
  });

  app.get('/v1/queues', async (request) => {
    requireAdmin(request);
    return { queues: await deps.jobs.queueOverview() };
  });

  app.post('/v1/jobs/:id/cancel', async (request, reply) => {
    const record = await deps.jobs.cancel(jobIdOf(request.params), principalOf(request).userId, request.id);
    // 202 while a worker is still stopping the job, 200 once it is cancelled.
    return reply.code(record.status === 'CANCELLED' ? 200 : 202).send(await deps.jobs.view(record));
  });

  app.get('/v1/jobs/:id/result', async (request, reply) => {
    const { format } = parseOrThrow(resultQuerySchema, request.query);
    const result = await deps.jobs.openResult(
      jobIdOf(request.params),
      principalOf(request).userId,
      format,
      (record) => ({
        contentDisposition: contentDisposition(resultFilename(record.input_filename, format)),
        contentType: OUTPUT_MEDIA_TYPES[format],
      }),
    );
    // Stores that sign URLs serve the bytes themselves (short-lived URL); local disk streams here.
    if (result.redirectUrl !== undefined) return reply.redirect(result.redirectUrl, 302);
    return reply
      .type(OUTPUT_MEDIA_TYPES[format])
      .header('content-length', result.sizeBytes)
      .header('content-disposition', contentDisposition(resultFilename(result.record.input_filename, format)))
      .header('cache-control', 'private, max-age=0, must-revalidate')
      .send(result.body);
  });
}
