/** A self-contained HTML page for a load run: tables and inline SVG bar charts, no scripts or downloads. */
interface Stat {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
interface Result {
  date: string;
  machine: Record<string, unknown>;
  config: Record<string, unknown>;
  totals: Record<string, number>;
  events: Record<string, Stat & { perSecond: number }>;
  errors: Record<string, number>;
  endToEnd: Record<string, Stat>;
  checks: Record<string, boolean | number>;
}

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Horizontal bars, one row per label, three bars (p50, p95, p99) per row. */
function latencyChart(rows: Array<[string, Stat]>): string {
  const max = Math.max(1, ...rows.map(([, s]) => s.p99));
  const rowH = 34;
  const width = 720;
  const left = 190;
  const scale = (v: number) => ((width - left - 60) * v) / max;
  const colors = ['#5b8def', '#f2a541', '#d9534f'];
  const bars = rows
    .map(([label, s], i) => {
      const y = i * rowH + 10;
      const parts = [s.p50, s.p95, s.p99]
        .map(
          (v, k) =>
            `<rect x="${left}" y="${y + k * 8}" width="${scale(v).toFixed(1)}" height="7" fill="${colors[k]}"><title>${['p50', 'p95', 'p99'][k]} ${v} ms</title></rect>`,
        )
        .join('');
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${esc(label)}</text>${parts}<text x="${left + scale(s.p99) + 6}" y="${y + 22}" font-size="11">${s.p99} ms</text>`;
    })
    .join('');
  const legend = ['p50', 'p95', 'p99']
    .map(
      (l, k) =>
        `<rect x="${left + k * 70}" y="${rows.length * rowH + 14}" width="10" height="10" fill="${colors[k]}"/><text x="${left + k * 70 + 14}" y="${rows.length * rowH + 23}" font-size="11">${l}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${rows.length * rowH + 34}" font-family="sans-serif">${bars}${legend}</svg>`;
}

const table = (head: string[], rows: unknown[][]) =>
  `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;

export function htmlReport(r: Result): string {
  const events = Object.entries(r.events);
  return `<!doctype html><html><head><meta charset="utf-8"><title>Lilium load run ${esc(r.date)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:960px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.ok{color:#2a7}.bad{color:#c33}</style></head><body>
<h1>Lilium load run</h1>
<p>${esc(r.date)} · ${esc(JSON.stringify(r.machine))}</p>
<p>${esc(JSON.stringify(r.config))}</p>
<h2>Totals</h2>${table(Object.keys(r.totals), [Object.values(r.totals)])}
<h2>Checks</h2><ul>${Object.entries(r.checks)
    .map(([k, v]) => `<li class="${v === true || v === 0 ? 'ok' : 'bad'}">${esc(k)}: ${esc(v)}</li>`)
    .join('')}</ul>
<h2>End to end</h2>${latencyChart(Object.entries(r.endToEnd))}
${table(
  ['path', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
  Object.entries(r.endToEnd).map(([k, s]) => [k, s.n, s.p50, s.p95, s.p99, s.max]),
)}
<h2>Calls</h2>${latencyChart(events)}
${table(
  ['event', 'n', 'per s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
  events.map(([k, s]) => [k, s.n, s.perSecond, s.p50, s.p95, s.p99, s.max]),
)}
<h2>Errors</h2>${Object.keys(r.errors).length ? table(['event and code', 'count'], Object.entries(r.errors)) : '<p>none</p>'}
</body></html>`;
}
