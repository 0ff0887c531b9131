import { setTimeout as sleep } from 'node:timers/promises';

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

export interface EventStreamClient {
  status: number;
  events: SseEvent[];
  comments: string[];
  /** The first event (seen or still to come) after index `from` that satisfies `predicate`. */
  waitFor(
    predicate: (event: SseEvent) => boolean,
    options?: { timeoutMs?: number; from?: number },
  ): Promise<SseEvent>;
  close(): void;
}

/** A minimal EventSource over fetch: parses frames as the HTML spec says, keeps comments too. */
export async function openEventStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<EventStreamClient> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  if (response.ok && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      let current: Partial<SseEvent> & { dataLines: string[] } = { dataLines: [] };
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let newline = buffer.indexOf('\n');
          while (newline >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            newline = buffer.indexOf('\n');
            if (line === '') {
              if (current.dataLines.length > 0) {
                const event: SseEvent = {
                  event: current.event ?? 'message',
                  data: current.dataLines.join('\n'),
                };
                if (current.id !== undefined) event.id = current.id;
                events.push(event);
              }
              current = { dataLines: [] };
            } else if (line.startsWith(':')) {
              comments.push(line.slice(1).trim());
            } else {
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'event') current.event = fieldValue;
              else if (field === 'data') current.dataLines.push(fieldValue);
              else if (field === 'id') current.id = fieldValue;
            }
          }
        }
      } catch {
        // Aborted by close().
      }
    })();
  }
  return {
    status: response.status,
    events,
    comments,
    async waitFor(predicate, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      while (Date.now() < deadline) {
        const found = events.slice(options.from ?? 0).find(predicate);
        if (found) return found;
        await sleep(25);
      }
      throw new Error(
        `no matching event; got ${JSON.stringify(events.map((e) => [e.event, e.id, e.data.slice(0, 80)]))}`,
      );
    },
    close() {
      controller.abort();
    },
  };
}
