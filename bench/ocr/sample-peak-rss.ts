import { readdir, readFile } from 'node:fs/promises';

/** Peak resident memory (VmHWM) per program seen in a process tree, in KiB. */
export interface PeakRss {
  /** The root process itself. */
  rootKib: number;
  /** Per child program (by its command name): the largest peak of any instance, and instances seen. */
  children: Map<string, { peakKib: number; instances: number }>;
}

async function readStatus(pid: number): Promise<{ name: string; hwmKib: number; ppid: number } | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (key: string) => new RegExp(`^${key}:\\s+(\\S+)`, 'm').exec(status)?.[1];
    return {
      name: field('Name') ?? '?',
      hwmKib: Number(field('VmHWM') ?? 0),
      ppid: Number(field('PPid') ?? 0),
    };
  } catch {
    // The process ended between listing and reading: it was already sampled or too brief to matter.
    return null;
  }
}

/**
 * Samples `/proc` every `intervalMs` until stopped: VmHWM is the kernel's own high-water mark, so a
 * sample taken any time before a process exits has its peak so far; only the last moments of a
 * child shorter than the interval can be missed.
 */
export function samplePeakRss(rootPid: number, intervalMs = 50): { stop(): Promise<PeakRss> } {
  const result: PeakRss = { rootKib: 0, children: new Map() };
  const seen = new Map<number, string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const entries = (await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
      const statuses = new Map<number, { name: string; hwmKib: number; ppid: number }>();
      for (const pid of entries) {
        const status = await readStatus(pid);
        if (status) statuses.set(pid, status);
      }
      const inTree = new Set([rootPid]);
      // Parents have lower pids most of the time, but not always: iterate to a fixed point.
      for (let changed = true; changed; ) {
        changed = false;
        for (const [pid, status] of statuses) {
          if (!inTree.has(pid) && inTree.has(status.ppid)) {
            inTree.add(pid);
            changed = true;
          }
        }
      }
      for (const pid of inTree) {
        const status = statuses.get(pid);
        if (!status) continue;
        if (pid === rootPid) {
          result.rootKib = Math.max(result.rootKib, status.hwmKib);
          continue;
        }
        const entry = result.children.get(status.name) ?? { peakKib: 0, instances: 0 };
        if (seen.get(pid) !== status.name) {
          seen.set(pid, status.name);
          entry.instances++;
        }
        entry.peakKib = Math.max(entry.peakKib, status.hwmKib);
        result.children.set(status.name, entry);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return result;
    },
  };
}
