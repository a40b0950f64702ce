import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Address } from '../../protocol/addresses.js';
import { sql } from '../../db/sql.js';
import type { AddressRow } from '../../db/tables.js';
import { notFound } from '../errors.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { assertActiveZones } from '../zones/zones.service.js';

type AddressView = Pick<AddressRow, 'id' | 'label' | 'line' | 'zone_id' | 'notes' | 'lat' | 'lng' | 'is_default'>;

const COLUMNS = sql`id, label, line, zone_id, notes, lat, lng, is_default`;

const toAddress = (a: AddressView): Address => ({
  id: a.id,
  label: a.label,
  line: a.line,
  zoneId: a.zone_id,
  notes: a.notes,
  location: a.lat === null || a.lng === null ? null : { lat: a.lat, lng: a.lng },
  isDefault: a.is_default,
});

function shopOf(ctx: Ctx): string {
  const { shopId } = actorOf(ctx);
  if (!shopId) throw notFound('shop');
  return shopId;
}

/** Loads one of the caller's own addresses, locked; another shop's address is simply not found. */
async function own(ctx: TxCtx, shopId: string, id: string): Promise<AddressView> {
  const [row] = await ctx.query<AddressView>(sql`SELECT ${COLUMNS} FROM addresses WHERE id = ${id} AND shop_id = ${shopId} AND deleted_at IS NULL FOR UPDATE`);
  if (!row) throw notFound('address');
  return row;
}

async function makeDefault(ctx: TxCtx, shopId: string, id: string): Promise<void> {
  // Clear first: the partial unique index allows one default per shop at any moment.
  await ctx.query(sql`UPDATE addresses SET is_default = false WHERE shop_id = ${shopId} AND is_default`);
  await ctx.query(sql`UPDATE addresses SET is_default = true WHERE id = ${id}`);
}

const lockShop = (ctx: TxCtx, shopId: string) => ctx.query(sql`SELECT 1 FROM shops WHERE id = ${shopId} FOR UPDATE`);

export async function listAddresses(ctx: Ctx): Promise<ResultOf<'addresses:list'>> {
  const shopId = shopOf(ctx);
  const rows = await ctx.query<AddressView>(
    sql`SELECT ${COLUMNS} FROM addresses WHERE shop_id = ${shopId} AND deleted_at IS NULL ORDER BY is_default DESC, created_at DESC, id`,
  );
  return { items: rows.map(toAddress) };
}

export async function createAddress(ctx: Ctx, input: ParsedInputOf<'addresses:create'>): Promise<ResultOf<'addresses:create'>> {
  const shopId = shopOf(ctx);
  return ctx.tx(async (ctx) => {
    await assertActiveZones(ctx, [input.zoneId]);
    // Serialises address changes of one shop, so "first address becomes default" holds under races.
    await lockShop(ctx, shopId);
    const [{ n }] = (await ctx.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM addresses WHERE shop_id = ${shopId} AND deleted_at IS NULL`)) as [
      { n: number },
    ];
    const [row] = await ctx.query<Pick<AddressRow, 'id'>>(sql`
      INSERT INTO addresses (shop_id, label, line, zone_id, notes, lat, lng)
      VALUES (${shopId}, ${input.label}, ${input.line}, ${input.zoneId}, ${input.notes ?? null}, ${input.location?.lat ?? null}, ${input.location?.lng ?? null})
      RETURNING id`);
    if (n === 0 || input.isDefault) await makeDefault(ctx, shopId, row!.id);
    return toAddress(await own(ctx, shopId, row!.id));
  });
}

export async function updateAddress(ctx: Ctx, input: ParsedInputOf<'addresses:update'>): Promise<ResultOf<'addresses:update'>> {
  const shopId = shopOf(ctx);
  return ctx.tx(async (ctx) => {
    const current = await own(ctx, shopId, input.id);
    if (input.zoneId) await assertActiveZones(ctx, [input.zoneId]);
    const location = input.location === undefined ? (current.lat === null ? null : { lat: current.lat, lng: current.lng! }) : input.location;
    await ctx.query(sql`
      UPDATE addresses SET label = ${input.label ?? current.label}, line = ${input.line ?? current.line}, zone_id = ${input.zoneId ?? current.zone_id},
             notes = ${input.notes === undefined ? current.notes : input.notes}, lat = ${location?.lat ?? null}, lng = ${location?.lng ?? null}
       WHERE id = ${input.id}`);
    return toAddress(await own(ctx, shopId, input.id));
  });
}

export async function setDefaultAddress(ctx: Ctx, { id }: ParsedInputOf<'addresses:set-default'>): Promise<ResultOf<'addresses:set-default'>> {
  const shopId = shopOf(ctx);
  return ctx.tx(async (ctx) => {
    await own(ctx, shopId, id);
    await makeDefault(ctx, shopId, id);
    return toAddress(await own(ctx, shopId, id));
  });
}

export async function deleteAddress(ctx: Ctx, { id }: ParsedInputOf<'addresses:delete'>): Promise<ResultOf<'addresses:delete'>> {
  const shopId = shopOf(ctx);
  return ctx.tx(async (ctx) => {
    await lockShop(ctx, shopId);
    const gone = await own(ctx, shopId, id);
    await ctx.query(sql`UPDATE addresses SET deleted_at = now(), is_default = false WHERE id = ${id}`);
    if (gone.is_default) {
      const [next] = await ctx.query<Pick<AddressRow, 'id'>>(
        sql`SELECT id FROM addresses WHERE shop_id = ${shopId} AND deleted_at IS NULL ORDER BY created_at DESC, id LIMIT 1`,
      );
      if (next) await makeDefault(ctx, shopId, next.id);
    }
    return { id };
  });
}
