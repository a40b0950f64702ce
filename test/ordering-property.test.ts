import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { key, makeProduct, makeShops, openVendors } from './support/ordering.js';
import { rng } from './support/rng.js';

let h: Harness;
let admin: Session, staff: Session;
let zoneId: string;

beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
  [admin, staff] = (await Promise.all(['admin@demo.lilium', 'vendor1@demo.lilium'].map((e) => h.login(e)))) as [Session, Session];
  await openVendors(h, admin, [(await call(staff.socket, 'me:get', {})).vendorId!]);
  zoneId = (await call(admin.socket, 'zones:list', {})).items[0]!.id;
});
afterAll(() => h.close());

const START = 15;

async function assertStockBalances(productIds: string[], trail: string[]): Promise<void> {
  const rows = await h.q<{ id: string; stock: number; held: number; placed: number; restored: number }>(
    `SELECT p.id, p.stock,
            coalesce((SELECT sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id
                       WHERE i.product_id = p.id AND o.status NOT IN ('REJECTED', 'CANCELLED')), 0)::int AS held,
            coalesce((SELECT -sum(delta) FROM stock_history WHERE product_id = p.id AND reason = 'ORDER_PLACED'), 0)::int AS placed,
            coalesce((SELECT sum(delta) FROM stock_history WHERE product_id = p.id AND reason LIKE 'ORDER_%' AND reason <> 'ORDER_PLACED'), 0)::int AS restored
       FROM products p WHERE p.id = ANY($1::uuid[])`,
    [productIds],
  );
  for (const r of rows) {
    const context = `${r.id} after ${trail.join(' ')}`;
    expect(r.stock, context).toBeGreaterThanOrEqual(0);
    expect(r.stock + r.placed - r.restored, context).toBe(START);
    expect(r.stock + r.held, context).toBe(START);
  }
}

test.each([11, 2024, 777])(
  'random cart, checkout, reduce, reject and cancel sequences keep stock + sold − restored = start (seed %i)',
  async (seed) => {
    const r = rng(seed);
    const products = await Promise.all([0, 1, 2].map(() => makeProduct(h, staff, { stock: START })));
    const ids = products.map((p) => p.id);
    const shops = await makeShops(h, admin, 3, zoneId);
    const trail: string[] = [];
    const succeeded = new Map<string, number>();
    for (let step = 0; step < 40; step++) {
      const shop = r.pick(shops);
      const open = await h.q<{ id: string; status: string; shop_id: string }>(
        `SELECT id, status, shop_id FROM orders WHERE status IN ('PENDING', 'ACCEPTED') AND id IN (SELECT order_id FROM order_items WHERE product_id = ANY($1::uuid[])) ORDER BY number`,
        [ids],
      );
      const order = open.length ? r.pick(open) : null;
      const action = r.pick(['add', 'add', 'checkout', 'checkout', 'reject', 'cancel', 'accept', 'reduce']);
      trail.push(action);
      const attempt = async () => {
        switch (action) {
          case 'add':
            return call(shop.socket, 'cart:add', { productId: r.pick(ids), quantity: 1 + r.int(6) });
          case 'checkout':
            return call(shop.socket, 'cart:checkout', { idempotencyKey: key() });
          case 'reject':
            return order && call(staff.socket, 'order:reject', { orderId: order.id, reason: 'property' });
          case 'cancel':
            return order && call(admin.socket, 'order:cancel', { orderId: order.id, reason: 'property' });
          case 'accept':
            return order && call(staff.socket, 'order:accept', { orderId: order.id });
          case 'reduce': {
            if (!order) return null;
            const { items } = await call(admin.socket, 'orders:get', { id: order.id });
            const line = items.find((i) => i.quantity > 0)!;
            return call(staff.socket, 'order:reduce', {
              orderId: order.id,
              items: [{ productId: line.productId, quantity: r.int(line.quantity) }],
              reason: 'property',
            });
          }
        }
      };
      await attempt().then(
        (done) => {
          if (done) succeeded.set(action, (succeeded.get(action) ?? 0) + 1);
        },
        (err: { code?: string }) => {
          // Refusals the rules allow; anything else is a failure of the property.
          expect(['INSUFFICIENT_STOCK', 'INVALID_TRANSITION', 'BAD_REQUEST', 'CONFLICT', 'MIN_ORDER_NOT_MET']).toContain(err.code);
        },
      );
      await assertStockBalances(ids, trail);
    }
    // The sequence must have exercised the paths it claims to.
    expect(succeeded.get('checkout') ?? 0, trail.join(' ')).toBeGreaterThan(0);
    expect((succeeded.get('reject') ?? 0) + (succeeded.get('cancel') ?? 0) + (succeeded.get('reduce') ?? 0), trail.join(' ')).toBeGreaterThan(0);
    for (const s of shops) s.socket.close();
  },
  60_000,
);
