import net from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, ERROR_CATALOG, type ErrorClass, type ErrorCode } from '../contract/index.js';
import { ChildProcessError } from '../process/run-child-process.js';
import { ObjectTooLargeError } from '../storage/object-storage.js';
import { classifyError } from './classify-error.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function classOf(error: unknown): { code: ErrorCode; errorClass: ErrorClass } {
  const { code } = classifyError(error);
  return { code, errorClass: ERROR_CATALOG[code].errorClass };
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code} from a syscall`), { code, syscall: 'read' });
}

/** A loopback port nothing listens on (it was bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server speaking just enough RESP to answer every command (an array, `*<n>`) with one error reply. */
async function redisReplying(errorLine: string): Promise<Redis> {
  const server = net.createServer((socket) => {
    socket.on('data', (chunk) => {
      const commands = chunk.toString('latin1').match(/(?:^|\n)\*\d+\r\n/g)?.length ?? 0;
      socket.write(`-${errorLine}\r\n`.repeat(commands));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const redis = new Redis({ host: '127.0.0.1', port, enableReadyCheck: false, maxRetriesPerRequest: 0 });
  cleanups.push(
    () => new Promise<void>((resolve) => server.close(() => resolve())),
    () => redis.disconnect(),
  );
  return redis;
}

describe('classifyError', () => {
  it('keeps a catalog error as it is', () => {
    const error = new AppError('PDF_ENCRYPTED');
    expect(classifyError(error)).toBe(error);
  });

  describe('Redis (transient infrastructure: DEPENDENCY_UNAVAILABLE)', () => {
    it('classifies a command refused on a closed ioredis connection', async () => {
      const redis = new Redis({ host: '127.0.0.1', port: await closedPort(), lazyConnect: true });
      redis.disconnect();
      const error = await redis.get('key').catch((e: unknown) => e);
      expect(classOf(error)).toEqual({ code: 'DEPENDENCY_UNAVAILABLE', errorClass: 'transient' });
    });

    it('classifies MaxRetriesPerRequestError from a Redis that cannot be reached', async () => {
      const redis = new Redis({
        host: '127.0.0.1',
        port: await closedPort(),
        maxRetriesPerRequest: 0,
        retryStrategy: () => 50,
      });
      redis.on('error', () => {});
      cleanups.push(() => redis.disconnect());
      const error = await redis.get('key').catch((e: unknown) => e);
      expect(error).toHaveProperty('name', 'MaxRetriesPerRequestError');
      expect(classOf(error)).toEqual({ code: 'DEPENDENCY_UNAVAILABLE', errorClass: 'transient' });
    });

    it('classifies the replies of a Redis that is loading, read-only or out of memory as transient', async () => {
      for (const line of [
        'LOADING Redis is loading the dataset in memory',
        'READONLY You can not write against a read only replica.',
        "OOM command not allowed when used memory > 'maxmemory'.",
      ]) {
        const error = await (await redisReplying(line)).get('key').catch((e: unknown) => e);
        expect(error).toHaveProperty('name', 'ReplyError');
        expect(classOf(error)).toEqual({ code: 'DEPENDENCY_UNAVAILABLE', errorClass: 'transient' });
      }
    });

    it('classifies a wrong command (WRONGTYPE) as internal, not as an outage', async () => {
      const redis = await redisReplying('WRONGTYPE Operation against a key holding the wrong kind of value');
      const error = await redis.get('key').catch((e: unknown) => e);
      expect(classOf(error)).toEqual({ code: 'INTERNAL_ERROR', errorClass: 'internal' });
    });
  });

  describe('network (transient: ENGINE_UNAVAILABLE)', () => {
    it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'])(
      'classifies errno %s',
      (code) => {
        expect(classOf(errno(code))).toEqual({ code: 'ENGINE_UNAVAILABLE', errorClass: 'transient' });
      },
    );

    it('reads the errno from the cause of a failed fetch', async () => {
      const error = await fetch(`http://127.0.0.1:${await closedPort()}/`).catch((e: unknown) => e);
      expect((error as Error).cause).toHaveProperty('code', 'ECONNREFUSED');
      expect(classOf(error)).toEqual({ code: 'ENGINE_UNAVAILABLE', errorClass: 'transient' });
    });
  });

  describe('local storage (transient: STORAGE_UNAVAILABLE)', () => {
    it.each(['ENOSPC', 'EIO', 'EMFILE', 'EROFS', 'EDQUOT'])('classifies errno %s', (code) => {
      expect(classOf(errno(code))).toEqual({ code: 'STORAGE_UNAVAILABLE', errorClass: 'transient' });
    });
  });

  describe('external tools', () => {
    it.each([
      ['missing', 'ENGINE_UNAVAILABLE', 'transient'],
      ['timeout', 'PROCESSING_TIMEOUT', 'timeout'],
      ['aborted', 'JOB_CANCELLED', 'cancelled'],
      ['exit', 'INTERNAL_ERROR', 'internal'],
    ] as const)('classifies a tool that failed with kind %s as %s', (kind, code, errorClass) => {
      expect(classOf(new ChildProcessError(kind, 'ffmpeg', kind === 'exit' ? 1 : null, ''))).toEqual({
        code,
        errorClass,
      });
    });
  });

  it('classifies an object over the storage size limit as the input error UPLOAD_TOO_LARGE', () => {
    expect(classOf(new ObjectTooLargeError(10))).toEqual({ code: 'UPLOAD_TOO_LARGE', errorClass: 'input' });
  });

  it('never classifies by message text: an error that only mentions an outage is internal', () => {
    expect(classOf(new TypeError('Connection is closed.'))).toEqual({
      code: 'INTERNAL_ERROR',
      errorClass: 'internal',
    });
    expect(classOf(new Error('read ECONNRESET'))).toEqual({ code: 'INTERNAL_ERROR', errorClass: 'internal' });
    expect(classOf('a thrown string')).toEqual({ code: 'INTERNAL_ERROR', errorClass: 'internal' });
  });
});
