/** Redis stream ids (`<ms>-<seq>`) compared in order; anything malformed sorts first. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = -1n, aSeq = -1n] = parseStreamId(a);
  const [bMs = -1n, bSeq = -1n] = parseStreamId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

export function isStreamId(value: string): boolean {
  return /^\d{1,20}-\d{1,20}$/.test(value);
}

function parseStreamId(id: string): [bigint, bigint] | [] {
  if (!isStreamId(id)) return [];
  const [ms, seq] = id.split('-');
  return [BigInt(ms ?? '0'), BigInt(seq ?? '0')];
}
