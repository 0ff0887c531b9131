import parsePrometheusTextFormat, {
  type PrometheusFamily,
  type PrometheusSample,
} from 'parse-prometheus-text-format';

/** A `/metrics` answer parsed by a real Prometheus text-format parser. */
export interface Scrape {
  text: string;
  /** Every family with its declared type. */
  families: Map<string, PrometheusFamily>;
  /**
   * The samples of one series name whose labels include `labels`. A histogram is read through its
   * `_bucket`, `_sum` and `_count` series: the parser folds a labelled histogram's series into one.
   */
  samples(name: string, labels?: Record<string, string>): PrometheusSample[];
  /** The summed value of those samples; 0 when there are none. */
  value(name: string, labels?: Record<string, string>): number;
}

export function parseScrape(text: string): Scrape {
  const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  // Untyped, each histogram series line stands alone (one family per label set: merged here).
  const series = new Map<string, PrometheusSample[]>();
  for (const family of parsePrometheusTextFormat(text.replace(/^# TYPE \S+ histogram\n/gm, ''))) {
    series.set(family.name, [...(series.get(family.name) ?? []), ...family.metrics]);
  }
  const samples = (name: string, labels: Record<string, string> = {}) =>
    (series.get(name) ?? []).filter((sample) =>
      Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value),
    );
  return {
    text,
    families,
    samples,
    value: (name, labels) =>
      samples(name, labels).reduce((sum, sample) => sum + Number(sample.value ?? 0), 0),
  };
}

/** GETs `url` (a `/metrics` endpoint) with an optional bearer token and parses the answer. */
export async function scrapeMetrics(url: string, token?: string): Promise<Scrape> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (response.status !== 200)
    throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return parseScrape(await response.text());
}
