import { describe, expect, it } from 'vitest';
import { assessTextLayer } from './assess-text-layer.js';

describe('assessTextLayer', () => {
  it('takes ordinary English text as usable', () => {
    expect(assessTextLayer('The archive keeps old books and recorded talks.\n')).toBe('usable');
  });
  it('counts a page with no or almost no letters as empty', () => {
    expect(assessTextLayer('')).toBe('empty');
    expect(assessTextLayer('  12 \n\f')).toBe('empty');
  });
  it('sees glyph ids leaking out as control characters as a broken encoding', () => {
    expect(assessTextLayer('\u0001\u0002\u0003\u0003\u0004 \u0005\u0006\u0003\u0007\b')).toBe('broken');
  });
  it('sees private-use characters as a broken encoding', () => {
    expect(assessTextLayer('\ue001\ue002\ue003 abcdefghijkl')).toBe('broken');
  });
  it('sends a page typeset in a legacy Devanagari font to OCR even though its text looks Latin', () => {
    expect(assessTextLayer('vkidks gekjs ikl ,d iqLrd gS', ['KrutiDev010'])).toBe('broken');
  });
  it('sends Devanagari text to OCR: PDF extraction gives its vowel signs in visual order', () => {
    expect(assessTextLayer('यह पुस्तक बहुत पुरानी है। स्वयंसेवक हर पृष्ठ को ध्यान से पढ़ते हैं')).toBe('devanagari');
    expect(assessTextLayer(`${'English words on the page. '.repeat(3)} पुस्तक पुरानी है`)).toBe('devanagari');
  });
});
