import { expect, test } from 'vitest';
import { Metrics } from '../../server/metrics.js';
import { readExposition, series } from '../support/metrics.js';

const read = async (m: Metrics) => readExposition(await m.render());

test('each Metrics has its own registry: two in one process share no series and no name', async () => {
  const a = new Metrics();
  const b = new Metrics();
  a.observeCall('zones:list', 'OK', 0.002);
  a.counter('lilium_jobs_total', 'Jobs run.', ['job']).inc({ job: 'sweep' });
  b.counter('lilium_jobs_total', 'Jobs run.', ['job']).inc({ job: 'prune' }, 3);
  expect(series(await read(a), 'lilium_rpc_calls_total')).toEqual({ 'event=zones:list,code=OK': 1 });
  expect(series(await read(b), 'lilium_rpc_calls_total')).toEqual({});
  expect(series(await read(a), 'lilium_jobs_total')).toEqual({ 'job=sweep': 1 });
  expect(series(await read(b), 'lilium_jobs_total')).toEqual({ 'job=prune': 3 });
  expect((await read(b)).families.get('process_cpu_seconds_total')?.type).toBe('COUNTER');
});

test('a counter without labels is 0 from the start; with labels, a series appears when first counted', async () => {
  const m = new Metrics();
  const failures = m.counter('lilium_failures_total', 'Failures.', []);
  const refused = m.counter('lilium_refused_total', 'Refused.', ['limit']);
  expect([series(await read(m), 'lilium_failures_total'), series(await read(m), 'lilium_refused_total')]).toEqual([{ '': 0 }, {}]);
  failures.inc({});
  failures.inc({}, 2);
  refused.inc({ limit: 'node' });
  expect([series(await read(m), 'lilium_failures_total'), series(await read(m), 'lilium_refused_total')]).toEqual([{ '': 3 }, { 'limit=node': 1 }]);
});

test('a gauge is read at each scrape; a record is one series per key, under the label given (kind by default)', async () => {
  const m = new Metrics();
  let states: Record<string, number> = { idle: 3, busy: 1 };
  let sockets = 2;
  m.gauge('lilium_pool', 'Pool.', () => states, 'state');
  m.gauge('lilium_caches', 'Caches.', () => ({ zones: 1 }));
  m.gauge('lilium_sockets', 'Sockets.', () => sockets);
  const first = await read(m);
  expect([series(first, 'lilium_pool'), series(first, 'lilium_caches'), series(first, 'lilium_sockets')]).toEqual([
    { 'state=idle': 3, 'state=busy': 1 },
    { 'kind=zones': 1 },
    { '': 2 },
  ]);
  expect(first.families.get('lilium_pool')?.type).toBe('GAUGE');
  states = { idle: 4 };
  sockets = 0;
  const second = await read(m);
  // A key gone from the record is gone from the scrape, not frozen at its last value.
  expect([series(second, 'lilium_pool'), series(second, 'lilium_sockets')]).toEqual([{ 'state=idle': 4 }, { '': 0 }]);
});

test('observeCall counts the call, its error code, and its latency in second buckets', async () => {
  const m = new Metrics();
  // Binary fractions, so that the sum is exact.
  m.observeCall('cart:get', 'OK', 0.5);
  m.observeCall('cart:get', 'RATE_LIMITED', 0.0009765625);
  const { text } = await read(m);
  expect(series(readExposition(text), 'lilium_rpc_errors_total')).toEqual({ 'code=RATE_LIMITED': 1 });
  expect(text).toContain('lilium_rpc_duration_seconds_bucket{le="0.001",event="cart:get"} 1\n');
  expect(text).toContain('lilium_rpc_duration_seconds_bucket{le="0.25",event="cart:get"} 1\n');
  expect(text).toContain('lilium_rpc_duration_seconds_bucket{le="0.5",event="cart:get"} 2\n');
  expect(text).toContain('lilium_rpc_duration_seconds_sum{event="cart:get"} 0.5009765625\n');
  expect(text).toContain('lilium_rpc_duration_seconds_count{event="cart:get"} 2\n');
});
