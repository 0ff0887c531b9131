import { describe, expect, it } from 'vitest';
import { findDataOffset } from './read-wav-data-offset.js';

function chunk(id: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...chunks]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe('findDataOffset', () => {
  it('finds the samples after a plain 44-byte header', () => {
    expect(findDataOffset(riff(chunk('fmt ', Buffer.alloc(16)), chunk('data', Buffer.alloc(10))))).toBe(44);
  });

  it('skips an odd-sized LIST chunk with its pad byte', () => {
    const wav = riff(
      chunk('fmt ', Buffer.alloc(16)),
      chunk('LIST', Buffer.alloc(25)),
      chunk('data', Buffer.alloc(4)),
    );
    expect(findDataOffset(wav)).toBe(44 + 8 + 26);
  });

  it('says null for something that is not a WAV', () => {
    expect(findDataOffset(Buffer.from('ID3\u0004 not a wav at all'))).toBeNull();
    expect(findDataOffset(riff(chunk('fmt ', Buffer.alloc(16))))).toBeNull();
  });
});
