import { describe, expect, it } from 'vitest';
import { readServerSentEvents, type ServerSentEvent } from './read-server-sent-events.js';

function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function readAll(chunks: readonly string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readServerSentEvents(streamOf(chunks))) events.push(event);
  return events;
}

describe('readServerSentEvents', () => {
  it('frames events split anywhere across chunks, with ids, CRLF line ends and several data lines', async () => {
    const events = await readAll([
      'retry: 3000\n\n: heartbeat\n\nevent: jo',
      'b\r\nid: 17-0\r\ndata: {"job_id":"a",\r\ndata: "status":"QUEUED"}\r\n\r\n',
      'event: job.deleted\ndata: {"job_id":"b"}\n\ndata: plain\n\n',
    ]);
    expect(events).toEqual([
      { event: 'job', id: '17-0', data: '{"job_id":"a",\n"status":"QUEUED"}' },
      { event: 'job.deleted', id: undefined, data: '{"job_id":"b"}' },
      { event: 'message', id: undefined, data: 'plain' },
    ]);
  });

  it('drops an event the stream ended in the middle of', async () => {
    expect(await readAll(['event: job\ndata: {"job_id":"a"}\n\nevent: job\ndata: {"job'])).toHaveLength(1);
  });
});
