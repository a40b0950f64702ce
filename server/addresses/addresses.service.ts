import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Address } from '../../protocol/addresses.js';
import type { Tx } from '../../db/tx.js';
import { notFound } from '../errors.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import { assertActiveZones } from '../zones/zones.service.js';

interface AddressRow {
  id: string;
  label: string;
  line: string;
  zone_id: string;
  notes: string | null;
  lat: number | null;
  lng: number | null;
  is_default: boolean;
}

const COLUMNS = 'id, label, line, zone_id, notes, lat, lng, is_default';

const toAddress = (a: AddressRow): Address => ({
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
async function own(tx: Tx, shopId: string, id: string): Promise<AddressRow> {
  const [row] = await tx.query<AddressRow>(`SELECT ${COLUMNS} FROM addresses WHERE id = $1 AND shop_id = $2 AND deleted_at IS NULL FOR UPDATE`, [id, shopId]);
  if (!row) throw notFound('address');
  return row;
}

async function makeDefault(tx: Tx, shopId: string, id: string): Promise<void> {
  // Clear first: the partial unique index allows one default per shop at any moment.
  await tx.query('UPDATE addresses SET is_default = false WHERE shop_id = $1 AND is_default', [shopId]);
  await tx.query('UPDATE addresses SET is_default = true WHERE id = $1', [id]);
}

export async function listAddresses(ctx: Ctx): Promise<ResultOf<'addresses:list'>> {
  const shopId = shopOf(ctx);
  const rows = await ctx.read((r) =>
    r.query<AddressRow>(`SELECT ${COLUMNS} FROM addresses WHERE shop_id = $1 AND deleted_at IS NULL ORDER BY is_default DESC, created_at DESC, id`, [shopId]),
  );
  return { items: rows.map(toAddress) };
}

export async function createAddress(ctx: Ctx, input: ParsedInputOf<'addresses:create'>): Promise<ResultOf<'addresses:create'>> {
  const shopId = shopOf(ctx);
  return ctx.tx(async (tx) => {
    await assertActiveZones(tx, [input.zoneId]);
    // Serialises address changes of one shop, so "first address becomes default" holds under races.
    await tx.query('SELECT 1 FROM shops WHERE id = $1 FOR UPDATE', [shopId]);
    const [{ n }] = (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM addresses WHERE shop_id = $1 AND deleted_at IS NULL', [shopId])) as [
      { n: number },
    ];
    const [row] = await tx.query<{ id: string }>(
      'INSERT INTO addresses (shop_id, label, line, zone_id, notes, lat, lng) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      [shopId, input.label, input.line, input.zoneId, input.notes ?? null, input.location?.lat ?? null, input.location?.lng ?? null],
    );
    if (n === 0 || input.isDefault) await makeDefault(tx, shopId, row!.id);
    return toAddress(await own(tx, shopId, row!.id));
  });
}

export async function updateAddress(ctx: Ctx, input: ParsedInputOf<'addresses:update'>): Promise<ResultOf<'addresses:update'>> {
  const shopId = shopOf(ctx);
  return ctx.tx(async (tx) => {
    const current = await own(tx, shopId, input.id);
    if (input.zoneId) await assertActiveZones(tx, [input.zoneId]);
    const location = input.location === undefined ? (current.lat === null ? null : { lat: current.lat, lng: current.lng! }) : input.location;
    await tx.query('UPDATE addresses SET label = $2, line = $3, zone_id = $4, notes = $5, lat = $6, lng = $7 WHERE id = $1', [
      input.id,
      input.label ?? current.label,
      input.line ?? current.line,
      input.zoneId ?? current.zone_id,
      input.notes === undefined ? current.notes : input.notes,
      location?.lat ?? null,
      location?.lng ?? null,
    ]);
    return toAddress(await own(tx, shopId, input.id));
  });
}

export async function setDefaultAddress(ctx: Ctx, { id }: ParsedInputOf<'addresses:set-default'>): Promise<ResultOf<'addresses:set-default'>> {
  const shopId = shopOf(ctx);
  return ctx.tx(async (tx) => {
    await own(tx, shopId, id);
    await makeDefault(tx, shopId, id);
    return toAddress(await own(tx, shopId, id));
  });
}

export async function deleteAddress(ctx: Ctx, { id }: ParsedInputOf<'addresses:delete'>): Promise<ResultOf<'addresses:delete'>> {
  const shopId = shopOf(ctx);
  return ctx.tx(async (tx) => {
    await tx.query('SELECT 1 FROM shops WHERE id = $1 FOR UPDATE', [shopId]);
    const gone = await own(tx, shopId, id);
    await tx.query('UPDATE addresses SET deleted_at = now(), is_default = false WHERE id = $1', [id]);
    if (gone.is_default) {
      const [next] = await tx.query<{ id: string }>('SELECT id FROM addresses WHERE shop_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id LIMIT 1', [
        shopId,
      ]);
      if (next) await makeDefault(tx, shopId, next.id);
    }
    return { id };
  });
}
