import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import os from 'node:os';

/** The `cpu` line of /proc/stat: jiffies spent per state since boot, all cores together. */
function cpuTimes(): { total: number; steal: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]
      ?.trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    if (!fields || fields.length < 8) return null;
    // user nice system idle iowait irq softirq steal [guest guest_nice, already counted in user]
    return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return null; // not Linux: no steal figure
  }
}

/** Taken when a benchmark starts (this module is imported first), to measure steal over the run. */
const atStart = cpuTimes();

/**
 * CPU steal since the benchmark started: the share of time the hypervisor gave this VM's cores to
 * other guests. Load inside the VM cannot show a busy host; steal does, and it is what made runs of
 * the same code differ by 2× on this shared machine.
 */
export function stealPercent(): number | null {
  const now = cpuTimes();
  if (!atStart || !now || now.total === atStart.total) return null;
  return (100 * (now.steal - atStart.steal)) / (now.total - atStart.total);
}

/** The machine a figure was measured on, for the dated rows of docs/benchmarks.md. */
export function machineDescription(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const steal = stealPercent();
  const stolen = steal === null ? '' : `, CPU steal ${steal.toFixed(1)} % during the run`;
  return `${os.availableParallelism()} cores (${cpu}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GB RAM, Node ${process.version}, load ${os.loadavg()[0]?.toFixed(1)}${stolen}`;
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
