import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';

describe('OCR_TEST_FAULT_ENGINE (test only)', () => {
  it('is off unless set, and parses its fault shares and page time', () => {
    expect(loadConfig({}).ocr.testFaultEngine).toBeUndefined();
    expect(
      loadConfig({ OCR_TEST_FAULT_ENGINE: 'transient=0.05,permanent=0.02,page_ms=20' }).ocr.testFaultEngine,
    ).toEqual({
      transient: 0.05,
      permanent: 0.02,
      pageMs: 20,
    });
    expect(() => loadConfig({ OCR_TEST_FAULT_ENGINE: 'transient=2' })).toThrow(/OCR_TEST_FAULT_ENGINE/);
    expect(() => loadConfig({ OCR_TEST_FAULT_ENGINE: 'flaky=0.1' })).toThrow(/OCR_TEST_FAULT_ENGINE/);
  });

  it('is refused in a production configuration', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', OCR_TEST_FAULT_ENGINE: 'page_ms=1' })).toThrow(
      /OCR_TEST_FAULT_ENGINE.*refused with NODE_ENV=production/,
    );
  });
});
