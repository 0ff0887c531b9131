import { describe, expect, it } from 'vitest';
import { fakeJob } from '../testing/fake-job.js';
import { describeStage } from './describe-stage.js';
import { detectFileKind } from './detect-file-kind.js';
import { estimateEtaSec } from './estimate-eta.js';
import { describeFailure, jobFailure } from './failure-message.js';
import { formatBytes, formatDuration, formatPercent } from './format-numbers.js';
import { formatAbsoluteTime, formatRelativeTime } from './format-time.js';
import { formatPageList, formatSegmentList, qualityLevel } from './quality-level.js';

const bytes = (text: string, extra: number[] = []) =>
  new Uint8Array([...Array.from(text, (c) => c.charCodeAt(0)), ...extra]);

describe('file kind detection before upload', () => {
  it('recognises documents and recordings by their first bytes, whatever their name', () => {
    expect(detectFileKind(bytes('%PDF-1.7'), 'scan.bin')?.input).toMatchObject({
      ext: 'pdf',
      jobType: 'OCR',
    });
    expect(detectFileKind(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 'x')?.input.ext).toBe('png');
    expect(detectFileKind(bytes('RIFF\0\0\0\0WAVEfmt '), 'talk')?.input).toMatchObject({
      ext: 'wav',
      jobType: 'TRANSCRIPTION',
    });
    expect(detectFileKind(bytes('ID3\u0004'), 'a')?.input.ext).toBe('mp3');
    expect(detectFileKind(bytes('\0\0\0\u0020ftypM4A '), 'a')?.input.ext).toBe('m4a');
    expect(detectFileKind(bytes('\0\0\0\u0020ftypisom'), 'a')?.input.ext).toBe('mp4');
    expect(detectFileKind(bytes('RIFF\0\0\0\0WEBPVP8 '), 'a')?.input.ext).toBe('webp');
    expect(detectFileKind(bytes('fLaC'), 'a')?.by).toBe('content');
  });

  it('falls back to the extension, and says so, when the bytes are unknown', () => {
    expect(detectFileKind(new Uint8Array(), 'Lecture.JPEG')).toMatchObject({
      input: { ext: 'jpg' },
      by: 'name',
    });
    expect(detectFileKind(new Uint8Array([1, 2, 3]), 'notes.docx')).toBeNull();
  });
});

describe('numbers, sizes and durations', () => {
  it('formats sizes and shares in the reader’s locale', () => {
    expect(formatBytes(512, 'en-IN')).toBe('512 byte');
    expect(formatBytes(1536, 'en-IN')).toBe('1.5 kB');
    expect(formatBytes(25 * 1024 * 1024, 'en-IN')).toBe('25 MB');
    expect(formatPercent(0.42, 'en-IN')).toBe('42%');
    expect(formatPercent(0.42, 'hi-IN')).toMatch(/42/);
  });

  it('says a duration with its two largest units', () => {
    expect(formatDuration(45, 'en')).toBe('45 sec');
    expect(formatDuration(200, 'en')).toBe('3 min 20 sec');
    expect(formatDuration(3900, 'en')).toBe('1 hr 5 min');
    expect(formatDuration(0, 'en')).toBe('0 sec');
    expect(formatDuration(90, 'hi-IN')).toMatch(/मि/);
  });
});

describe('times', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');

  it('says how long ago, in English and Hindi', () => {
    expect(formatRelativeTime('2026-11-25T11:55:00Z', now, 'en')).toBe('5 minutes ago');
    expect(formatRelativeTime('2026-11-25T11:59:58Z', now, 'en')).toBe('now');
    expect(formatRelativeTime('2026-11-24T12:00:00Z', now, 'en')).toBe('yesterday');
    expect(formatRelativeTime('2026-11-25T11:55:00Z', now, 'hi-IN')).toBe('5 मिनट पहले');
  });

  it('gives the absolute time in the reader’s time zone', () => {
    expect(formatAbsoluteTime('2026-11-25T12:00:00Z', 'en-GB', 'Asia/Kolkata')).toBe('25 Nov 2026, 17:30');
    expect(formatAbsoluteTime('2026-11-25T12:00:00Z', 'en-GB', 'UTC')).toBe('25 Nov 2026, 12:00');
  });
});

describe('stage in words', () => {
  it('finds the message for each stage the server reports', () => {
    expect(describeStage('page 3 of 12')).toEqual({ key: 'stage.page', params: { page: 3, pages: 12 } });
    expect(describeStage('transcribing 01:10 of 03:00')).toEqual({
      key: 'stage.transcribing',
      params: { heard: '01:10', total: '03:00' },
    });
    expect(describeStage('retry scheduled (2/3)')).toEqual({
      key: 'stage.retry',
      params: { attempt: 2, max: 3 },
    });
    expect(describeStage('decoding audio')).toEqual({ key: 'stage.decoding', params: {} });
  });

  it('shows an unknown stage as the server wrote it', () => {
    expect(describeStage('aligning speakers')).toEqual({ raw: 'aligning speakers' });
  });
});

describe('ETA', () => {
  const now = Date.parse('2026-11-25T10:01:00Z');

  it('prefers the server’s estimate', () => {
    expect(estimateEtaSec(fakeJob({ eta_sec: 42 }), now)).toBe(42);
  });

  it('otherwise extrapolates the rate so far', () => {
    // 60 s for 25 %: 180 s for the remaining 75 %.
    expect(estimateEtaSec(fakeJob({ progress: 25 }), now)).toBe(180);
  });

  it('says nothing when too little has happened or the job is finished', () => {
    expect(estimateEtaSec(fakeJob({ progress: 2 }), now)).toBeNull();
    expect(estimateEtaSec(fakeJob({ status: 'COMPLETED', progress: 100 }), now)).toBeNull();
    expect(estimateEtaSec(fakeJob({ status: 'QUEUED', eta_sec: null }), now)).toBeNull();
  });
});

describe('quality badge', () => {
  it('grades the engine’s confidence', () => {
    expect(qualityLevel({ score: 0.93 })).toBe('good');
    expect(qualityLevel({ score: 0.93, low_confidence_pages: [2] })).toBe('fair');
    expect(qualityLevel({ score: 0.4 })).toBe('poor');
    expect(qualityLevel(null)).toBe('unknown');
  });

  it('joins consecutive low-confidence pages into ranges', () => {
    expect(formatPageList([12, 3, 7, 8, 9], 'en')).toBe('3, 7–9, 12');
    expect(formatPageList([], 'en')).toBe('');
  });

  it('lists the low-confidence passages of a recording as clock ranges, and does not call them good', () => {
    const segments = [
      { start_sec: 3725.2, end_sec: 3731, score: 0.3, reasons: ['repetition'] },
      { start_sec: 5, end_sec: 12.9, score: 0.4, reasons: ['engine_confidence'] },
    ];
    expect(formatSegmentList(segments, 'en')).toBe('0:05–0:12, 1:02:05–1:02:11');
    expect(qualityLevel({ score: 0.93, low_confidence_segments: segments })).toBe('fair');
  });
});

describe('failure messages', () => {
  it('shows the catalog message in the reader’s language with one next action and the reference', () => {
    const failure = {
      kind: 'problem' as const,
      status: 415,
      problem: {
        status: 415,
        error_code: 'UNSUPPORTED_MEDIA_TYPE',
        detail: 'This file type is not supported. Upload a PDF, an image, or an audio or video recording.',
        message_hi: 'यह फ़ाइल प्रकार समर्थित नहीं है। PDF, चित्र, या ऑडियो/वीडियो रिकॉर्डिंग अपलोड करें।',
        request_id: 'req-42',
      },
    };
    expect(describeFailure(failure, 'hi')).toEqual({
      message: 'यह फ़ाइल प्रकार समर्थित नहीं है। PDF, चित्र, या ऑडियो/वीडियो रिकॉर्डिंग अपलोड करें।',
      next: 'इसके बजाय PDF, चित्र या रिकॉर्डिंग चुनें।',
      detail: null,
      requestId: 'req-42',
    });
    expect(describeFailure(failure, 'en').next).toBe('Choose a PDF, an image or a recording instead.');
  });

  it('tells network trouble apart from a refusal by the server', () => {
    expect(describeFailure({ kind: 'network' }, 'en')).toMatchObject({
      message: 'The server could not be reached.',
      next: 'Check the connection to the server, then try again.',
    });
    expect(describeFailure({ kind: 'http', status: 502 }, 'en').message).toContain('HTTP 502');
  });

  it('uses the server’s wording for a code this build does not know yet', () => {
    const text = describeFailure(
      {
        kind: 'problem',
        status: 503,
        problem: {
          status: 503,
          error_code: 'SOME_NEWER_CODE',
          detail: 'in use',
          message_hi: 'उपयोग में',
        },
      },
      'hi',
    );
    expect(text.message).toBe('उपयोग में');
    expect(text.next).toBe('एक मिनट बाद पुनः प्रयास करें।');
  });

  it('reads a failed job’s error code like a refusal, keeping its specific wording as detail', () => {
    const failure = jobFailure(
      fakeJob({ status: 'FAILED', error_code: 'PDF_ENCRYPTED', error_message: 'needs a password' }),
    );
    expect(failure && describeFailure(failure, 'en')).toMatchObject({
      message: 'The PDF needs a password to open. Upload an unprotected copy.',
      next: 'Save the PDF without a password and upload that copy.',
      detail: 'needs a password',
      requestId: 'req-1',
    });
  });
});
