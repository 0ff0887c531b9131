import { describe, expect, it } from 'vitest';
import { type FileProgress, terminalProgress } from './submit-progress.js';

/** A terminal as the bars see it: a size and the text written, with each redraw's escapes kept. */
function fakeTty(columns = 100, rows = 24) {
  const writes: string[] = [];
  return {
    stream: { isTTY: true, columns, rows, write: (text: string) => writes.push(text) },
    writes,
    /** What was written since the last call. */
    take(): string {
      return writes.splice(0).join('');
    },
  };
}

const going = (name: string, percent: number, phase = 'uploading'): FileProgress => ({
  name,
  phase,
  percent,
  detail: '',
  outcome: null,
});

describe('terminalProgress', () => {
  it('draws a bar per file still going and an overall bar, and redraws them in place on each update', () => {
    const tty = fakeTty();
    const progress = terminalProgress(tty.stream);
    progress.begin(2);

    progress.update(going('a.pdf', 50));
    const first = tty.take();
    expect(first).toContain('\x1b[0J');
    expect(first).toMatch(/ {2}a\.pdf +\[#{10}-{10}\] {2}50% uploading/);
    expect(first).toContain('  overall [--------------------] 0/2 done\n');

    progress.update(going('b.wav', 0, 'QUEUED'));
    const second = tty.take();
    // Two lines were drawn (a's bar, overall): the cursor goes up over them before redrawing.
    expect(second.startsWith('\x1b[2A\x1b[0J')).toBe(true);
    expect(second).toMatch(/a\.pdf +\[#{10}-{10}\] {2}50%/);
    expect(second).toMatch(/b\.wav +\[-{20}\] {3}0% QUEUED/);

    progress.update(going('a.pdf', 100, 'PROCESSING'));
    const third = tty.take();
    expect(third.startsWith('\x1b[3A\x1b[0J')).toBe(true);
    expect(third).toMatch(/a\.pdf +\[#{20}\] 100% PROCESSING/);
    expect(third).not.toMatch(/a\.pdf +\[#{10}-{10}\]/);
  });

  it('turns a settled file into a permanent line above the bars and advances the overall bar, counting failures', () => {
    const tty = fakeTty();
    const progress = terminalProgress(tty.stream);
    progress.begin(2);
    progress.update(going('a.pdf', 40));
    progress.update(going('b.wav', 10));
    tty.take();

    progress.update({ name: 'a.pdf', phase: 'done', percent: 100, detail: 'a.txt', outcome: true });
    const done = tty.take();
    expect(done.startsWith('\x1b[3A\x1b[0J✓ a.pdf  done  a.txt\n')).toBe(true);
    expect(done).not.toMatch(/ {2}a\.pdf +\[/);
    expect(done).toContain('  overall [##########----------] 1/2 done\n');

    progress.update({
      name: 'b.wav',
      phase: 'FAILED',
      percent: 10,
      detail: 'INPUT_UNREADABLE',
      outcome: false,
    });
    const failed = tty.take();
    expect(failed).toContain('✗ b.wav  FAILED  INPUT_UNREADABLE\n');
    expect(failed).toContain('  overall [####################] 2/2 done, 1 failed\n');
  });

  it('fits long names and lines to the terminal width, and lists files beyond its height as a count', () => {
    const tty = fakeTty(40, 5);
    const progress = terminalProgress(tty.stream);
    progress.begin(4);
    for (const name of ['one.pdf', 'two.pdf', 'three.pdf'])
      progress.update(going(`a/very/long/folder/name/${name}`, 0));
    const lines = tty.take().split('\x1b[0J').at(-1)?.split('\n').filter(Boolean) ?? [];
    // 5 rows leave room for 2 bars, the "more" line and the overall bar.
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe('  … and 1 more');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(39);
    expect(lines[0]).toContain('…');
    expect(lines[0]).toContain('one.pdf');
  });
});
