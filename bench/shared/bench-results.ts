import { appendFile } from 'node:fs/promises';
import os from 'node:os';

/** The machine a figure was measured on, for the dated rows of docs/benchmarks.md. */
export function machineDescription(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.availableParallelism()} cores (${cpu}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GB RAM, Node ${process.version}, load ${os.loadavg()[0]?.toFixed(1)}`;
}

/**
 * Appends a dated result under the benchmark's heading in docs/benchmarks.md, or to
 * BENCH_RESULTS_FILE when set (the smoke test's tiny runs must not touch the repository).
 */
export async function recordResult(benchmark: string, command: string, lines: string[]): Promise<void> {
  const file = process.env.BENCH_RESULTS_FILE ?? 'docs/benchmarks.md';
  const day = new Date().toISOString().slice(0, 10);
  const text = [
    '',
    `### ${benchmark}: ${day}`,
    '',
    `Command: \`${command}\`. Machine: ${machineDescription()}.`,
    '',
    ...lines,
    '',
  ].join('\n');
  await appendFile(file, text);
  console.log(`results appended to ${file}`);
}

export function percentile(sorted: number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}
