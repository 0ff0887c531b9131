import { describe, expect, it } from 'vitest';
import type { ProgressUpdate } from '../pipeline.js';
import { ProgressReporter } from './progress-reporter.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('ProgressReporter', () => {
  it('never sends a lower figure than one already reported', async () => {
    const sent: number[] = [];
    const reporter = new ProgressReporter(
      async (update) => {
        sent.push(update.progress);
      },
      () => {},
    );
    for (const progress of [2, 5, 40, 30, 41, 41, 99]) {
      reporter.report({ stage: `at ${progress}`, progress });
      await reporter.flush();
    }
    expect(sent).toEqual([2, 5, 40, 41, 99]);
  });

  it('keeps one update in flight and sends only the latest of those that queued meanwhile, with their facts', async () => {
    const sent: ProgressUpdate[] = [];
    const gate = deferred();
    const reporter = new ProgressReporter(
      async (update) => {
        sent.push(update);
        if (sent.length === 1) await gate.promise;
      },
      () => {},
    );
    reporter.report({ stage: 'decoding audio', progress: 2 });
    reporter.report({ stage: 'transcribing 00:00 of 01:00', progress: 5, facts: { media_duration_sec: 60 } });
    reporter.report({ stage: 'transcribing 00:10 of 01:00', progress: 20 });
    reporter.report({ stage: 'transcribing 00:20 of 01:00', progress: 36 });
    gate.resolve();
    await reporter.flush();
    expect(sent).toEqual([
      { stage: 'decoding audio', progress: 2 },
      { stage: 'transcribing 00:20 of 01:00', progress: 36, facts: { media_duration_sec: 60 } },
    ]);
  });

  it('passes a failed send to onError and goes on with the next update', async () => {
    const errors: unknown[] = [];
    const sent: number[] = [];
    const reporter = new ProgressReporter(
      async (update) => {
        if (update.progress === 2) throw new Error('redis down');
        sent.push(update.progress);
      },
      (error) => errors.push(error),
    );
    reporter.report({ stage: 'decoding audio', progress: 2 });
    await reporter.flush();
    reporter.report({ stage: 'transcribing', progress: 5 });
    await reporter.flush();
    expect(errors).toHaveLength(1);
    expect(sent).toEqual([5]);
  });

  it('still finishes when the sender throws synchronously', async () => {
    const reporter = new ProgressReporter(
      () => {
        throw new Error('not a promise');
      },
      () => {},
    );
    reporter.report({ stage: 'decoding audio', progress: 2 });
    reporter.report({ stage: 'decoding audio', progress: 3 });
    await reporter.flush();
  });
});
