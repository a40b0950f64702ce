import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { startHarness, type Harness } from './support/harness.js';
import { placeOrder } from './support/delivery.js';
import { makeProduct, openVendors } from './support/ordering.js';
import { freePorts } from './support/ports.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ redis: true });
});
afterAll(() => h.close());

test('npm run cluster -- --nodes 2 starts two nodes on consecutive ports that share pushes, and stops them on SIGTERM', async () => {
  const base = await freePorts(2);
  const env = { ...h.env(), PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' };
  const cluster = spawn(process.execPath, ['--import', 'tsx', 'server/cluster.ts', '--nodes', '2', '--port', String(base)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  cluster.stdout.on('data', (d: Buffer) => (out += d.toString()));
  cluster.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => cluster.once('exit', (code) => resolve(code)));
  for (;;) {
    if (out.includes('cluster: 2 node(s)')) break;
    if (cluster.exitCode !== null) throw new Error(out);
    await new Promise((r) => setTimeout(r, 50));
  }
  const [one, two] = [`http://127.0.0.1:${base}`, `http://127.0.0.1:${base + 1}`];
  expect((await fetch(`${one}/health`)).status).toBe(200);
  expect((await fetch(`${two}/health`)).status).toBe(200);

  const admin = await h.login('admin@demo.lilium', { url: one });
  const staff = await h.login('vendor1@demo.lilium', { url: two });
  const shop = await h.login('shop1@demo.lilium', { url: one });
  await openVendors(h, admin, [(await call(staff.socket, 'me:get', {})).vendorId!]);
  const product = await makeProduct(h, staff);
  const heard = h.next(staff.socket, 'order:new');
  const order = await placeOrder(shop, product.id);
  expect((await heard).data.id).toBe(order.id);

  cluster.kill('SIGTERM');
  expect(await exited).toBe(0);
  await expect(fetch(`${one}/health`)).rejects.toThrow();
  await expect(fetch(`${two}/health`)).rejects.toThrow();
}, 60_000);
