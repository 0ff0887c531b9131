import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type JobChangeNotice, SSE_EVENTS } from '../../contract/index.js';
import type { JobEventFeed } from '../../jobs/job-event-feed.js';
import type { JobService } from '../../jobs/job-service.js';
import { compareStreamIds, isStreamId } from '../../jobs/stream-id.js';
import { errorFields } from '../../observability/logger.js';
import { principalOf } from '../principal.js';
import { SseStream } from '../sse-stream.js';
import { jobIdOf } from './route-params.js';

export interface EventsRoutesDeps {
  jobs: JobService;
  feed: JobEventFeed;
  heartbeatMs: number;
}

/** Jobs sent as a snapshot when `GET /v1/events` opens without `Last-Event-ID`. */
const ACTIVE_SNAPSHOT_LIMIT = 100;

/** Live job changes as Server-Sent Events: all of the caller's jobs, or one job. */
export function registerEventsRoutes(app: FastifyInstance, deps: EventsRoutesDeps): void {
  const open = new Set<SseStream>();
  app.addHook('onClose', async () => {
    for (const stream of open) stream.close();
  });

  const serve = async (request: FastifyRequest, reply: FastifyReply, jobId?: string) => {
    const ownerId = principalOf(request).userId;
    // Ownership is checked before the stream opens, so a stranger's id answers a plain 404.
    if (jobId) await deps.jobs.get(jobId, ownerId);
    const header = request.headers['last-event-id'];
    const lastEventId = typeof header === 'string' && header.trim() ? header.trim() : undefined;
    const stream = new SseStream(request, reply, { heartbeatMs: deps.heartbeatMs, retryMs: 3000 });
    open.add(stream);
    const log = request.log.child({ job_id: jobId });
    log.info({ event: 'sse.opened', resumed: lastEventId !== undefined }, 'event stream opened');

    let lastSent = lastEventId && isStreamId(lastEventId) ? lastEventId : undefined;
    let chain = Promise.resolve();
    const enqueue = (task: () => Promise<void>) => {
      chain = chain.then(task).catch((error: unknown) => {
        log.warn({ event: 'sse.delivery_failed', ...errorFields(error) }, 'event not delivered');
      });
    };

    /** Sends the newest state of each job named by `notices`, once, in event order. */
    const deliver = async (notices: readonly JobChangeNotice[]) => {
      const newest = new Map<string, JobChangeNotice>();
      for (const notice of notices) {
        if (jobId && notice.job_id !== jobId) continue;
        if (lastSent && compareStreamIds(notice.event_id, lastSent) <= 0) continue;
        newest.delete(notice.job_id);
        newest.set(notice.job_id, notice);
      }
      for (const notice of newest.values()) {
        if (stream.isClosed) return;
        if (notice.kind === 'deleted') {
          stream.send(SSE_EVENTS.jobDeleted, { job_id: notice.job_id }, notice.event_id);
        } else {
          const record = await deps.jobs.find(notice.job_id, ownerId);
          // Deleted meanwhile: its own `deleted` notice follows.
          if (!record) continue;
          stream.send(SSE_EVENTS.job, await deps.jobs.view(record), notice.event_id);
        }
        lastSent = notice.event_id;
      }
    };

    const unsubscribe = deps.feed.subscribe(ownerId, (notice) => enqueue(() => deliver([notice])));
    stream.onClose(() => {
      unsubscribe();
      open.delete(stream);
      log.info({ event: 'sse.closed' }, 'event stream closed');
    });

    enqueue(async () => {
      if (lastEventId) {
        const missed = await deps.feed.missedSince(ownerId, lastEventId);
        if (!missed.complete) {
          stream.send(SSE_EVENTS.resync, {
            reason: 'Some changes can no longer be replayed; reload the list.',
          });
        }
        await deliver(missed.notices);
        return;
      }
      const snapshot = jobId
        ? [await deps.jobs.get(jobId, ownerId)]
        : (await deps.jobs.listRecords(ownerId, ['QUEUED', 'PROCESSING'], ACTIVE_SNAPSHOT_LIMIT)).reverse();
      for (const record of snapshot) stream.send(SSE_EVENTS.job, await deps.jobs.view(record));
    });
  };

  app.get('/v1/events', (request, reply) => serve(request, reply));
  app.get('/v1/jobs/:id/events', (request, reply) => serve(request, reply, jobIdOf(request.params)));
}
