/** How `submit` shows its files as they go: bars on a terminal, one line per change otherwise. */

export interface FileProgress {
  /** The input's relative name. */
  name: string;
  /** `hashing`, `uploading`, a job status, `downloading`, `skipped`, `refused`, `done`. */
  phase: string;
  /** 0–100. */
  percent: number;
  /** The job's stage in words, or the reason it failed. */
  detail: string;
  /** Settled for good: `true` succeeded, `false` failed, `null` still going. */
  outcome: boolean | null;
}

export interface SubmitProgress {
  /** How many files (distinct contents) there are, once known. */
  begin(total: number): void;
  update(file: FileProgress): void;
  /** Leaves the screen as it is (all lines final). */
  close(): void;
}

export const silentProgress: SubmitProgress = { begin() {}, update() {}, close() {} };

/** Not a terminal: a line whenever a file's phase changes, nothing for progress within a phase. */
export function lineProgress(write: (text: string) => void): SubmitProgress {
  const phases = new Map<string, string>();
  return {
    begin() {},
    update(file) {
      if (phases.get(file.name) === file.phase) return;
      phases.set(file.name, file.phase);
      write(`${file.name}\t${file.phase}${file.detail ? `\t${file.detail}` : ''}\n`);
    },
    close() {},
  };
}

const BAR_WIDTH = 20;

function bar(percent: number): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

function fitToWidth(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `…${text.slice(text.length - width + 1)}`;
}

/**
 * A terminal: settled files scroll up as permanent lines; below them one bar per file still
 * going (as many as fit) and an overall bar, redrawn in place with ANSI cursor movement.
 */
export function terminalProgress(stream: {
  write(text: string): unknown;
  columns?: number;
  rows?: number;
}): SubmitProgress {
  let total = 0;
  const active = new Map<string, FileProgress>();
  let settled = 0;
  let failed = 0;
  let drawn = 0;
  const nameWidth = () => Math.max(12, Math.min(40, Math.floor((stream.columns || 100) * 0.35)));
  const clip = (line: string) => line.slice(0, Math.max(20, (stream.columns || 100) - 1));
  const erase = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A`);
    stream.write('\x1b[0J');
    drawn = 0;
  };
  const draw = () => {
    const room = Math.max(1, (stream.rows || 24) - 3);
    const lines = [...active.values()]
      .slice(0, room)
      .map((file) =>
        clip(
          `  ${fitToWidth(file.name, nameWidth())} ${bar(file.percent)} ${String(file.percent).padStart(3)}% ${file.phase} ${file.detail}`,
        ),
      );
    if (active.size > room) lines.push(`  … and ${active.size - room} more`);
    const overall = total > 0 ? Math.round((settled / total) * 100) : 100;
    lines.push(
      clip(`  overall ${bar(overall)} ${settled}/${total} done${failed > 0 ? `, ${failed} failed` : ''}`),
    );
    stream.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  return {
    begin(count) {
      total = count;
    },
    update(file) {
      erase();
      if (file.outcome === null) {
        active.set(file.name, file);
      } else {
        active.delete(file.name);
        settled += 1;
        if (!file.outcome) failed += 1;
        stream.write(
          `${clip(
            `${file.outcome ? '✓' : '✗'} ${file.name}  ${file.phase}${file.detail ? `  ${file.detail}` : ''}`,
          )}\n`,
        );
      }
      draw();
    },
    close() {
      // Nothing drawn yet (the run stopped before any file): leave the screen alone.
      if (drawn === 0) return;
      erase();
      draw();
    },
  };
}
