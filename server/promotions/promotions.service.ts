import type { ParsedInputOf, Promotion, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import { audit } from '../audit.js';
import { assertInZones, assertWithinZones, zoneScope } from '../auth/zone-scope.js';
import { mapConstraintErrors } from '../db-errors.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { afterCursor, page } from '../pagination.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import type { Actor } from '../auth/actor.js';
import type { Reader } from '../../db/tx.js';
import { isAdmin } from '../auth/zone-scope.js';
import type { PromotionOf } from './rules.js';

const toPromotion = (p: PromotionOf): Promotion => ({
  id: p.id,
  vendorId: p.vendor_id,
  name: { ar: p.name_ar, en: p.name_en },
  kind: p.kind,
  percentBps: p.percent_bps,
  amount: p.amount_minor,
  buyQty: p.buy_qty,
  getQty: p.get_qty,
  tiers: p.tiers,
  minPurchase: p.min_purchase_minor,
  maxDiscount: p.max_discount_minor,
  startsAt: new Date(p.starts_at).toISOString(),
  endsAt: new Date(p.ends_at).toISOString(),
  zoneIds: p.zone_ids,
  productIds: p.product_ids,
  categoryIds: p.category_ids,
  couponCode: p.coupon_code,
  usageLimit: p.usage_limit,
  usedCount: p.used_count,
  active: p.active,
  createdAt: new Date(p.created_at).toISOString(),
});

/** Admins reach every promotion (a zone-limited one: those applying in its zones); a manager their vendor's (and reads platform-wide ones). */
async function assertReach(r: Reader, actor: Actor, p: PromotionOf, write: boolean): Promise<void> {
  await assertInZones(r, actor, 'promotion', p.id);
  if (isAdmin(actor.role)) return;
  if (p.vendor_id === actor.vendorId || (!write && p.vendor_id === null)) return;
  throw forbidden('this promotion belongs to another vendor');
}

async function find(r: Reader, id: string): Promise<PromotionOf> {
  const [row] = await r.query<PromotionOf>(sql`SELECT * FROM promotions WHERE id = ${id}`);
  if (!row) throw notFound('promotion');
  return row;
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
const meets = (a: string[], b: string[]) => a.length === 0 || b.length === 0 || a.some((x) => b.includes(x));

/**
 * Others live at the same time, for the same vendor scope and zones, on some of the same items. Only the best single
 * promotion applies per vendor group, so overlap is a warning; but two automatic ones on exactly the same items
 * would compete for every sale, and that is refused.
 */
async function overlaps(r: Reader, input: ParsedInputOf<'promotions:create'>, vendorId: string | null) {
  const rows = await r.query<PromotionOf>(
    sql`SELECT * FROM promotions WHERE active AND starts_at < ${input.endsAt} AND ends_at > ${input.startsAt}
           AND (vendor_id IS NULL OR ${vendorId}::uuid IS NULL OR vendor_id = ${vendorId}) ORDER BY created_at`,
  );
  const warnings: Array<{ promotionId: string; message: string }> = [];
  for (const p of rows) {
    if (!meets(p.zone_ids, input.zoneIds)) continue;
    const sameItems = sameSet(p.product_ids, input.productIds) && sameSet(p.category_ids, input.categoryIds);
    const itemsMeet = sameItems || meets(p.product_ids, input.productIds) || meets(p.category_ids, input.categoryIds);
    if (!itemsMeet) continue;
    if (sameItems && p.vendor_id === vendorId && p.coupon_code === null && !input.couponCode) {
      throw new AppError('CONFLICT', `promotion "${p.name_en}" already applies automatically to the same items at the same time`, { promotionId: p.id });
    }
    warnings.push({ promotionId: p.id, message: `overlaps "${p.name_en}": only the larger discount applies to an order` });
  }
  return warnings;
}

export async function createPromotion(ctx: Ctx, input: ParsedInputOf<'promotions:create'>): Promise<ResultOf<'promotions:create'>> {
  const actor = actorOf(ctx);
  const vendorId = isAdmin(actor.role) ? (input.vendorId ?? null) : actor.vendorId;
  if (!isAdmin(actor.role) && input.vendorId && input.vendorId !== actor.vendorId) throw forbidden('a manager creates promotions for their own vendor only');
  // A zone-limited admin's promotions apply in its zones only, never platform-wide.
  assertWithinZones(actor, input.zoneIds);
  return ctx.tx(async (ctx) => {
    if (vendorId) await assertInZones(ctx, actor, 'vendor', vendorId);
    const warnings = await overlaps(ctx, input, vendorId);
    const [row] = await mapConstraintErrors(
      () =>
        ctx.query<PromotionOf>(
          sql`INSERT INTO promotions (vendor_id, name_ar, name_en, kind, percent_bps, amount_minor, buy_qty, get_qty, tiers, min_purchase_minor,
                                      max_discount_minor, starts_at, ends_at, zone_ids, product_ids, category_ids, coupon_code, usage_limit, created_by)
              VALUES (${vendorId}, ${input.name.ar}, ${input.name.en}, ${input.kind}, ${input.kind === 'PERCENT' ? input.percentBps : null},
                      ${input.kind === 'FIXED' ? input.amount : null}, ${input.kind === 'BUY_X_GET_Y' ? input.buyQty : null},
                      ${input.kind === 'BUY_X_GET_Y' ? input.getQty : null}, ${input.kind === 'TIERED' ? JSON.stringify(input.tiers) : null},
                      ${input.minPurchase}, ${input.maxDiscount ?? null}, ${input.startsAt}, ${input.endsAt}, ${input.zoneIds}, ${input.productIds},
                      ${input.categoryIds}, ${input.couponCode ?? null}, ${input.usageLimit ?? null}, ${actor.userId})
              RETURNING *`,
        ),
      'this coupon code is taken',
    );
    await audit(ctx, 'PROMOTION_CREATE', { type: 'promotion', id: row!.id }, { vendorId, kind: input.kind });
    return { promotion: toPromotion(row!), warnings };
  });
}

export async function listPromotions(ctx: Ctx, input: ParsedInputOf<'promotions:list'>): Promise<ResultOf<'promotions:list'>> {
  const actor = actorOf(ctx);
  const where = sql.and([
    isAdmin(actor.role) ? zoneScope(actor, 'promotion', sql`promotions.id`) : sql`(vendor_id IS NULL OR vendor_id = ${actor.vendorId})`,
    ...(input.vendorId ? [sql`vendor_id = ${input.vendorId}`] : []),
    ...(input.active !== undefined ? [sql`active = ${input.active}`] : []),
    afterCursor(input.cursor, [
      [sql`created_at`, 'timestamptz'],
      [sql`id`, 'uuid'],
    ]),
  ]);
  const rows = await ctx.query<PromotionOf & { created_key: string }>(
    sql`SELECT *, created_at::text AS created_key FROM promotions WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT ${input.limit + 1}`,
  );
  return page(rows, input.limit, toPromotion, (p) => [p.created_key, p.id]);
}

export async function getPromotion(ctx: Ctx, { id }: ParsedInputOf<'promotions:get'>): Promise<ResultOf<'promotions:get'>> {
  const p = await find(ctx, id);
  await assertReach(ctx, actorOf(ctx), p, false);
  return toPromotion(p);
}

export async function setPromotionActive(ctx: Ctx, { id, active }: ParsedInputOf<'promotions:set-active'>): Promise<ResultOf<'promotions:set-active'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    await assertReach(ctx, actor, await find(ctx, id), true);
    const [row] = await ctx.query<PromotionOf>(sql`UPDATE promotions SET active = ${active} WHERE id = ${id} RETURNING *`);
    await audit(ctx, 'PROMOTION_STATUS', { type: 'promotion', id }, { active });
    return toPromotion(row!);
  });
}
