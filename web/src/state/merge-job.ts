import type { WebJob } from '../api/contract.js';

/**
 * Combines what the page knew about a job with a newer report of it. Reports can arrive out of
 * order (stream, poll and action answers race): an older one never replaces a newer one, and the
 * progress shown never goes backwards.
 */
export function mergeJob(known: WebJob | undefined, incoming: WebJob): WebJob {
  if (!known) return incoming;
  if (incoming.updated_at < known.updated_at) return known;
  if (incoming.progress < known.progress) return { ...incoming, progress: known.progress };
  return incoming;
}
