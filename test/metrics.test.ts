import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { startHarness, type Harness } from './support/harness.js';
import { scrape, series, type Scrape } from './support/metrics.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ redis: true });
});
afterAll(() => h.close());

const typeOf = ({ families }: Scrape, name: string) => families.get(name)?.type;

test('/metrics is the Prometheus text format, with the runtime metrics Node dashboards expect', async () => {
  const res = await fetch(`${h.url}/metrics`);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  await res.arrayBuffer();
  const scraped = await scrape(h.url);
  expect({
    process_cpu_seconds_total: typeOf(scraped, 'process_cpu_seconds_total'),
    process_resident_memory_bytes: typeOf(scraped, 'process_resident_memory_bytes'),
    process_start_time_seconds: typeOf(scraped, 'process_start_time_seconds'),
    nodejs_eventloop_lag_seconds: typeOf(scraped, 'nodejs_eventloop_lag_seconds'),
    nodejs_eventloop_lag_p99_seconds: typeOf(scraped, 'nodejs_eventloop_lag_p99_seconds'),
    nodejs_gc_duration_seconds: typeOf(scraped, 'nodejs_gc_duration_seconds'),
    nodejs_heap_size_used_bytes: typeOf(scraped, 'nodejs_heap_size_used_bytes'),
    nodejs_heap_space_size_used_bytes: typeOf(scraped, 'nodejs_heap_space_size_used_bytes'),
    nodejs_active_handles_total: typeOf(scraped, 'nodejs_active_handles_total'),
  }).toEqual({
    process_cpu_seconds_total: 'COUNTER',
    process_resident_memory_bytes: 'GAUGE',
    process_start_time_seconds: 'GAUGE',
    nodejs_eventloop_lag_seconds: 'GAUGE',
    nodejs_eventloop_lag_p99_seconds: 'GAUGE',
    nodejs_gc_duration_seconds: 'HISTOGRAM',
    nodejs_heap_size_used_bytes: 'GAUGE',
    nodejs_heap_space_size_used_bytes: 'GAUGE',
    nodejs_active_handles_total: 'GAUGE',
  });
  expect(series(scraped, 'process_resident_memory_bytes')['']).toBeGreaterThan(10_000_000);
  expect(series(scraped, 'process_cpu_seconds_total')['']).toBeGreaterThan(0);
});

test("Lilium's own metrics carry conventional names and types", async () => {
  const shop = await h.login('shop1@demo.lilium');
  await call(shop.socket, 'zones:list', {});
  await call(shop.socket, 'zones:list', { nope: 1 } as never).catch(() => undefined);
  const scraped = await scrape(h.url);
  const lilium = [...scraped.families.values()].filter((f) => f.name.startsWith('lilium_'));
  expect(Object.fromEntries(lilium.map((f) => [f.name, f.type]))).toEqual({
    lilium_rpc_calls_total: 'COUNTER',
    lilium_rpc_errors_total: 'COUNTER',
    lilium_rpc_duration_seconds: 'HISTOGRAM',
    lilium_redis_publish_failures_total: 'COUNTER',
    lilium_connections_refused_total: 'COUNTER',
    lilium_connected_sockets: 'GAUGE',
    lilium_rpc_in_flight: 'GAUGE',
    lilium_db_pool_connections: 'GAUGE',
    lilium_db_pool_waiting: 'GAUGE',
  });
  // Counters, Lilium's and the runtime's alike, end in _total; every value is a number.
  for (const f of scraped.families.values()) {
    if (f.type === 'COUNTER') expect(f.name).toMatch(/_total$/);
    if (f.type === 'COUNTER' || f.type === 'GAUGE')
      for (const value of Object.values(series(scraped, f.name))) expect(Number.isFinite(value), f.name).toBe(true);
  }

  expect(series(scraped, 'lilium_rpc_calls_total')).toMatchObject({
    'event=auth:login,code=OK': 1,
    'event=zones:list,code=OK': 1,
    'event=zones:list,code=BAD_REQUEST': 1,
  });
  expect(series(scraped, 'lilium_rpc_errors_total')).toEqual({ 'code=BAD_REQUEST': 1 });
  expect(scraped.text).toMatch(/^lilium_rpc_duration_seconds_count\{event="zones:list"\} 2$/m);
  expect(scraped.text).toMatch(/^lilium_rpc_duration_seconds_bucket\{le="\+Inf",event="zones:list"\} 2$/m);
  expect(series(scraped, 'lilium_redis_publish_failures_total')).toEqual({ '': 0 });
  expect(series(scraped, 'lilium_connected_sockets')['']).toBeGreaterThanOrEqual(1);

  // The pool's connections by state, without a total that would count them twice when summed.
  const pool = series(scraped, 'lilium_db_pool_connections');
  expect(Object.keys(pool).sort()).toEqual(['state=busy', 'state=idle']);
  expect(pool['state=idle']! + pool['state=busy']!).toBeGreaterThanOrEqual(1);
  expect(Object.keys(series(scraped, 'lilium_db_pool_waiting'))).toEqual(['']);
});
