import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  AppError,
  createUploadBodySchema,
  type JobType,
  UPLOAD_EXPIRES_HEADER,
  UPLOAD_OFFSET_HEADER,
  UPLOAD_PATCH_CONTENT_TYPE,
  type UploadSessionView,
} from '../../contract/index.js';
import { JOB_ID_PATTERN, newJobId } from '../../jobs/new-job-id.js';
import { storageKeys } from '../../jobs/storage-keys.js';
import type { UploadSession, UploadSessionStore } from '../../jobs/upload-sessions.js';
import { type ObjectStorage, ObjectTooLargeError } from '../../storage/object-storage.js';
import { cleanFilename, declaredSizeLimit } from '../check-upload.js';
import { principalOf } from '../principal.js';
import { parseOrThrow } from './route-params.js';

export interface UploadsRoutesDeps {
  uploads: UploadSessionStore;
  storage: ObjectStorage;
  maxUploadBytes: number;
  maxUploadBytesByType?: Readonly<Record<JobType, number>>;
}

/** A malformed id cannot exist: 404 exactly as for someone else's or an expired upload. */
function uploadIdOf(params: unknown): string {
  const id = (params as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || !JOB_ID_PATTERN.test(id)) throw new AppError('UPLOAD_NOT_FOUND');
  return id;
}

function viewOf(session: UploadSession): UploadSessionView {
  return {
    upload_id: session.uploadId,
    filename: session.filename,
    size: session.size,
    offset: session.offset,
    expires_at: new Date(session.expiresAtMs).toISOString(),
  };
}

/** The tus headers every answer about a session carries (offset, size, expiry as an HTTP date). */
function withUploadHeaders(reply: FastifyReply, session: UploadSession, offset = session.offset) {
  return reply
    .header(UPLOAD_OFFSET_HEADER, offset)
    .header('upload-length', session.size)
    .header(UPLOAD_EXPIRES_HEADER, new Date(session.expiresAtMs).toUTCString())
    .header('tus-resumable', '1.0.0')
    .header('cache-control', 'no-store');
}

/** `Upload-Offset`: a non-negative integer of at most 16 digits. */
function offsetHeaderOf(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,16}$/.test(value)) {
    throw new AppError('VALIDATION_FAILED', 'Upload-Offset: the byte offset this PATCH starts at', {
      details: { errors: [{ field: 'Upload-Offset', message: 'a non-negative integer' }] },
    });
  }
  return Number(value);
}

function offsetMismatch(serverOffset: number, sent: number): AppError {
  return new AppError(
    'UPLOAD_OFFSET_MISMATCH',
    `The upload is at offset ${serverOffset}; this PATCH starts at ${sent}.`,
    { details: { offset: serverOffset } },
  );
}

/**
 * Resumable uploads (docs/api.md): create a session, append bytes with PATCH at the offset the
 * server has, ask for the offset (HEAD/GET), terminate (DELETE). Each PATCH becomes one storage
 * object that counts only once fully received, so a cut connection leaves nothing half-written.
 */
export function registerUploadsRoutes(app: FastifyInstance, deps: UploadsRoutesDeps): void {
  const limits = { maxBytes: deps.maxUploadBytes, maxBytesByType: deps.maxUploadBytesByType };
  // The body of a PATCH is streamed to storage as it arrives, never buffered.
  app.addContentTypeParser(UPLOAD_PATCH_CONTENT_TYPE, (_request, payload, done) => done(null, payload));

  app.post('/v1/uploads', async (request, reply) => {
    const ownerId = principalOf(request).userId;
    const body = parseOrThrow(createUploadBodySchema, request.body ?? {});
    const filename = cleanFilename(body.filename);
    const limit = declaredSizeLimit(limits, filename);
    if (body.size > limit) {
      throw new AppError('FILE_TOO_LARGE', `Files of this type up to ${limit} bytes are accepted.`);
    }
    const session = await deps.uploads.create(newJobId(), ownerId, {
      filename,
      size: body.size,
      mime: body.mime ?? null,
    });
    if (!session) {
      throw new AppError(
        'QUOTA_UPLOAD_SESSIONS',
        `At most ${deps.uploads.times.maxOpenPerUser} unfinished uploads are kept per user.`,
      );
    }
    request.log.info(
      { event: 'upload.session_created', upload_id: session.uploadId, size: session.size },
      'upload session created',
    );
    return withUploadHeaders(reply, session)
      .code(201)
      .header('location', `/v1/uploads/${session.uploadId}`)
      .send(viewOf(session));
  });

  // Fastify answers HEAD from this route too: the same headers, no body (tus asks with HEAD).
  app.get('/v1/uploads/:id', async (request, reply) => {
    const session = await deps.uploads.get(uploadIdOf(request.params), principalOf(request).userId);
    if (!session || session.state === 'consumed') throw new AppError('UPLOAD_NOT_FOUND');
    return withUploadHeaders(reply, session).send(viewOf(session));
  });

  app.patch('/v1/uploads/:id', async (request, reply) => {
    const uploadId = uploadIdOf(request.params);
    const ownerId = principalOf(request).userId;
    const session = await deps.uploads.get(uploadId, ownerId);
    if (!session || session.state === 'consumed') throw new AppError('UPLOAD_NOT_FOUND');
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== UPLOAD_PATCH_CONTENT_TYPE) {
      throw new AppError('REQUEST_BODY_INVALID', `Send the bytes as ${UPLOAD_PATCH_CONTENT_TYPE}.`);
    }
    const offset = offsetHeaderOf(request.headers[UPLOAD_OFFSET_HEADER]);
    if (session.state !== 'open') throw new AppError('UPLOAD_BUSY');
    if (offset !== session.offset) throw offsetMismatch(session.offset, offset);
    const remaining = session.size - offset;
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (declared > remaining) {
      throw new AppError(
        'UPLOAD_LENGTH_EXCEEDED',
        `${remaining} bytes are left of the ${session.size} declared; this PATCH has ${declared}.`,
      );
    }
    // No body at all: nothing to store (tus allows an empty PATCH).
    if (request.body === undefined || request.body === null) {
      return withUploadHeaders(reply, session).code(204).send();
    }
    const partKey = storageKeys.uploadPart(uploadId, offset, randomBytes(8).toString('hex'));
    let stored: { sizeBytes: number };
    try {
      // All or nothing: a body cut off mid-way (or longer than what is left) leaves no object.
      stored = await deps.storage.put(partKey, request.body as Readable, { maxBytes: remaining });
    } catch (error) {
      if (error instanceof ObjectTooLargeError) {
        throw new AppError(
          'UPLOAD_LENGTH_EXCEEDED',
          `${remaining} bytes are left of the ${session.size} declared.`,
          { cause: error },
        );
      }
      if (request.raw.destroyed || !request.raw.complete) {
        request.log.info(
          { event: 'upload.part_aborted', upload_id: uploadId, offset },
          'PATCH ended before its body was complete; nothing kept',
        );
        throw new AppError(
          'REQUEST_BODY_INVALID',
          'The PATCH ended before its body was complete; none of it was kept. Ask for the offset and send again.',
          { cause: error },
        );
      }
      throw error;
    }
    if (stored.sizeBytes === 0) {
      await deps.storage.deletePrefix(partKey);
      return withUploadHeaders(reply, session).code(204).send();
    }
    const outcome = await deps.uploads.commitPart(uploadId, ownerId, offset, stored.sizeBytes, partKey);
    if (outcome.kind !== 'ok') {
      // Lost a race, or the session ended meanwhile: this part never counted.
      await deps.storage.deletePrefix(partKey);
      if (outcome.kind === 'mismatch') throw offsetMismatch(outcome.offset, offset);
      if (outcome.kind === 'too_long') throw new AppError('UPLOAD_LENGTH_EXCEEDED');
      if (outcome.kind === 'busy') throw new AppError('UPLOAD_BUSY');
      throw new AppError('UPLOAD_NOT_FOUND');
    }
    request.log.info(
      {
        event: 'upload.part_stored',
        upload_id: uploadId,
        offset,
        size: stored.sizeBytes,
        upload_offset: outcome.offset,
        complete: outcome.offset === session.size,
      },
      'upload part stored',
    );
    return withUploadHeaders(reply, session, outcome.offset).code(204).send();
  });

  app.delete('/v1/uploads/:id', async (request, reply) => {
    const uploadId = uploadIdOf(request.params);
    const removed = await deps.uploads.remove(deps.storage, uploadId, principalOf(request).userId);
    if (!removed) throw new AppError('UPLOAD_NOT_FOUND');
    request.log.info({ event: 'upload.session_deleted', upload_id: uploadId }, 'upload session terminated');
    return reply.header('tus-resumable', '1.0.0').code(204).send();
  });
}
