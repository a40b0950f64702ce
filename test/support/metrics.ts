import parsePrometheusTextFormat, { type Family } from 'parse-prometheus-text-format';

export interface Scrape {
  /** Families by name, as a Prometheus text-format parser read them (it throws on a malformed line). */
  families: Map<string, Family>;
  text: string;
}

export const readExposition = (text: string): Scrape => ({ families: new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f])), text });

/** A node's /metrics. */
export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text}`);
  return readExposition(text);
}

/**
 * A counter's or gauge's series as `{ "label=value,…": number }` (`""` for the one without labels).
 * Not for histograms: the parser merges the buckets of a labelled histogram's series into one.
 */
export function series({ families }: Scrape, name: string): Record<string, number> {
  const family = families.get(name);
  if (!family) throw new Error(`no metric ${name}`);
  if (family.type === 'HISTOGRAM' || family.type === 'SUMMARY') throw new Error(`${name} is a ${family.type}`);
  return Object.fromEntries(
    family.metrics.map((s) => [
      Object.entries(s.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      Number(s.value),
    ]),
  );
}
