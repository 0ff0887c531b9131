import { SSE_EVENTS, type WebJob } from './contract.js';
import type { JobPoller } from './job-poller.js';

/** The part of EventSource used here (a fake stands in for it in unit tests). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  close(): void;
}

/** `connecting` → `live` (event stream) or `polling` (fallback); `offline` after polling gave up. */
export type LiveMode = 'connecting' | 'live' | 'polling' | 'offline';

export interface LiveJobUpdatesOptions {
  eventsUrl: string;
  poller: JobPoller;
  onJob(job: WebJob): void;
  onDeleted(jobId: string): void;
  onModeChange(mode: LiveMode): void;
  /** The server lost events it cannot replay: reload what is shown. */
  onResync(): void;
  createEventSource?: ((url: string) => EventSourceLike) | null;
}

const CLOSED = 2;
/** Failed reconnects of the stream in a row before polling takes over (EventSource alone retries forever). */
const MAX_STREAM_ERRORS = 3;

/**
 * One Server-Sent Events stream for all of the user's jobs. The browser reconnects it by
 * itself (sending Last-Event-ID); when the server has no stream or the stream is closed for
 * good, the job poller takes over.
 */
export class LiveJobUpdates {
  private source: EventSourceLike | null = null;
  private mode: LiveMode = 'connecting';
  private streamErrors = 0;

  constructor(private readonly options: LiveJobUpdatesOptions) {}

  get currentMode(): LiveMode {
    return this.mode;
  }

  start(): void {
    const create =
      this.options.createEventSource === undefined
        ? typeof EventSource === 'function'
          ? (url: string) => new EventSource(url) as EventSourceLike
          : null
        : this.options.createEventSource;
    if (!create) {
      this.fallBackToPolling();
      return;
    }
    this.setMode('connecting');
    const source = create(this.options.eventsUrl);
    this.source = source;
    source.onopen = () => {
      this.streamErrors = 0;
      this.options.poller.stop();
      // Reopened streams send Last-Event-ID and the server replays what was missed.
      this.setMode('live');
    };
    source.onerror = () => {
      // CLOSED: the server refused the stream (no such route, wrong type): it will not retry.
      this.streamErrors += 1;
      if (source.readyState === CLOSED || this.streamErrors >= MAX_STREAM_ERRORS) this.fallBackToPolling();
      else this.setMode('connecting');
    };
    source.addEventListener(SSE_EVENTS.job, (event) => {
      const job = parseJson<WebJob>(event.data);
      if (job?.job_id) this.options.onJob(job);
    });
    source.addEventListener(SSE_EVENTS.jobDeleted, (event) => {
      const body = parseJson<{ job_id?: string }>(event.data);
      if (body?.job_id) this.options.onDeleted(body.job_id);
    });
    source.addEventListener(SSE_EVENTS.resync, () => this.options.onResync());
  }

  /** After polling gave up: try the stream again, then polling. */
  reconnect(): void {
    this.stop();
    this.streamErrors = 0;
    this.start();
  }

  stop(): void {
    this.source?.close();
    this.source = null;
    this.options.poller.stop();
  }

  markOffline(): void {
    this.setMode('offline');
  }

  private fallBackToPolling(): void {
    this.source?.close();
    this.source = null;
    this.setMode('polling');
    this.options.poller.start();
  }

  private setMode(mode: LiveMode): void {
    if (this.mode === mode) return;
    this.mode = mode;
    this.options.onModeChange(mode);
  }
}

function parseJson<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
