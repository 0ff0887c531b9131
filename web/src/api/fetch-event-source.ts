import type { EventSourceLike } from './live-job-updates.js';

type Listener = (event: MessageEvent<string>) => void;

export interface FetchEventSourceOptions {
  /** Read before every (re)connection, so a renewed token is used. */
  headers: () => Record<string, string>;
  fetch?: typeof fetch;
  /** Pause before reconnecting, unless the server sent `retry:`. */
  retryMs?: number;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/**
 * Server-Sent Events over fetch, for when the stream needs an Authorization header (EventSource
 * cannot send one). Behaves like EventSource where LiveJobUpdates looks: reconnects after a
 * dropped stream with Last-Event-ID, and closes for good on a refusal (4xx) or a wrong type.
 */
export class FetchEventSource implements EventSourceLike {
  readyState = CONNECTING;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private abort: AbortController | null = null;
  private lastEventId = '';
  private retryMs: number;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly url: string,
    private readonly options: FetchEventSourceOptions,
  ) {
    this.retryMs = options.retryMs ?? 3_000;
    void this.connect();
  }

  addEventListener(type: string, listener: Listener): void {
    const set = this.listeners.get(type) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(type, set);
  }

  close(): void {
    this.readyState = CLOSED;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
  }

  private async connect(): Promise<void> {
    if (this.readyState === CLOSED) return;
    this.readyState = CONNECTING;
    this.abort = new AbortController();
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.options.headers() };
    if (this.lastEventId) headers['last-event-id'] = this.lastEventId;
    const doFetch = this.options.fetch ?? globalThis.fetch.bind(globalThis);
    try {
      const response = await doFetch(this.url, { headers, cache: 'no-store', signal: this.abort.signal });
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok || !type.startsWith('text/event-stream') || !response.body) {
        // As EventSource does: a refusal or a wrong answer is final.
        this.readyState = CLOSED;
        this.onerror?.(new Event('error'));
        return;
      }
      this.readyState = OPEN;
      this.onopen?.(new Event('open'));
      await this.read(response.body);
    } catch {
      if (this.readyState === CLOSED) return;
    }
    if (this.readyState === CLOSED) return;
    this.readyState = CONNECTING;
    this.onerror?.(new Event('error'));
    if (this.readyState !== CLOSED) this.timer = setTimeout(() => void this.connect(), this.retryMs);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      // Events end with a blank line (any of the three line endings the format allows).
      const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
      buffer = blocks.pop() ?? '';
      for (const block of blocks) this.dispatch(block);
    }
  }

  private dispatch(block: string): void {
    let type = 'message';
    const data: string[] = [];
    let id: string | null = null;
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    }
    if (id !== null) this.lastEventId = id;
    if (data.length === 0) return;
    const event = new MessageEvent<string>(type, { data: data.join('\n'), lastEventId: this.lastEventId });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}
