import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * One Server-Sent Events response: frames written in order, comment heartbeats so proxies keep
 * the connection open, and `onClose` when the client goes away or the server shuts down.
 */
export class SseStream {
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly closeHandlers: Array<() => void> = [];

  constructor(
    request: FastifyRequest,
    private readonly reply: FastifyReply,
    options: { heartbeatMs: number; retryMs: number },
  ) {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    reply.raw.write(`retry: ${options.retryMs}\n\n`);
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), options.heartbeatMs);
    this.heartbeat.unref();
    request.raw.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(event: string, data: unknown, id?: string): void {
    const lines = [`event: ${event}`];
    if (id) lines.push(`id: ${id}`);
    lines.push(`data: ${JSON.stringify(data)}`);
    this.write(`${lines.join('\n')}\n\n`);
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    if (!this.reply.raw.writableEnded) this.reply.raw.end();
    for (const handler of this.closeHandlers.splice(0)) handler();
  }

  private write(frame: string): void {
    if (!this.closed) this.reply.raw.write(frame);
  }
}
