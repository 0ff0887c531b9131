import { Readable } from 'node:stream';
import { AppError } from '../contract/index.js';

/**
 * Reads the first `size` bytes of a stream (fewer if it ends first) and gives back a stream of the
 * whole content, head included, without holding more than the head in memory. Unlike file-type's
 * own `fileTypeStream`, it also settles for an empty stream.
 */
export function readStreamHead(source: Readable, size: number): Promise<{ head: Buffer; whole: Readable }> {
  return new Promise((resolve, reject) => {
    // A stream that failed or closed before anyone listened (busboy ends a truncated part while the
    // route still awaits Redis) would never emit again: settle now instead of waiting forever.
    if (source.errored || source.destroyed) {
      return reject(
        new AppError('REQUEST_BODY_INVALID', 'The upload ended before the file was complete.', {
          cause: source.errored ?? undefined,
        }),
      );
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (ended: boolean) => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.pause();
      const head = Buffer.concat(chunks);
      const whole = Readable.from(
        (async function* () {
          yield head;
          if (!ended) for await (const chunk of source) yield chunk as Buffer;
        })(),
      );
      resolve({ head, whole });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= size) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = (error: Error) => reject(error);
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
  });
}
