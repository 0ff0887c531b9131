import { describe, expect, it } from 'vitest';
import { contentDisposition, resultFilename } from './content-disposition.js';
import { resolveRequestId } from './request-id.js';

describe('contentDisposition', () => {
  it('keeps a Hindi file name in filename* and gives an ASCII fallback', () => {
    const header = contentDisposition('प्रवचन १.txt');
    expect(header).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
    const encoded = header.split("filename*=UTF-8''")[1] ?? '';
    expect(decodeURIComponent(encoded)).toBe('प्रवचन १.txt');
  });

  it('cannot be broken out of by quotes in the name', () => {
    expect(contentDisposition('a"b\\c.txt')).toContain('filename="a_b_c.txt"');
  });

  it('names a result after its input', () => {
    expect(resultFilename('talk 3.mp3', 'txt')).toBe('talk 3.txt');
    expect(resultFilename('.hidden', 'srt')).toBe('.hidden.srt');
    expect(resultFilename('noext', 'vtt')).toBe('noext.vtt');
  });
});

describe('resolveRequestId', () => {
  it('keeps a plain caller-supplied id', () => {
    expect(resolveRequestId('abc-123_x.y:z')).toBe('abc-123_x.y:z');
  });

  it('replaces ids that could inject into logs', () => {
    for (const bad of ['a b', 'x\ny', 'a'.repeat(129), '', '<script>']) {
      expect(resolveRequestId(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
