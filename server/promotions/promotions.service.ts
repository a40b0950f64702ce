import type { ParsedInputOf, Promotion, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import { audit } from '../audit.js';
import { assertInZones, assertWithinZones, zoneScope } from '../auth/zone-scope.js';
import { mapConstraintErrors } from '../db-errors.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { decodeCursor, page } from '../pagination.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import type { Actor } from '../auth/actor.js';
import type { Reader } from '../../db/tx.js';
import { isAdmin } from '../users/scope.js';
import type { PromotionRule } from './rules.js';

/** The stored promotion: the rule pricing applies, plus its window, limits and state. */
interface PromotionRecord extends PromotionRule {
  starts_at: Date;
  ends_at: Date;
  usage_limit: number | null;
  used_count: number;
  active: boolean;
  created_at: Date;
}

const toPromotion = (p: PromotionRecord): Promotion => ({
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
async function assertReach(r: Reader, actor: Actor, p: PromotionRecord, write: boolean): Promise<void> {
  await assertInZones(r, actor, 'promotion', p.id);
  if (isAdmin(actor.role)) return;
  if (p.vendor_id === actor.vendorId || (!write && p.vendor_id === null)) return;
  throw forbidden('this promotion belongs to another vendor');
}

async function find(r: Reader, id: string): Promise<PromotionRecord> {
  const [row] = await r.query<PromotionRecord>('SELECT * FROM promotions WHERE id = $1', [id]);
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
  const rows = await r.query<PromotionRecord>(
    `SELECT * FROM promotions WHERE active AND starts_at < $2 AND ends_at > $1 AND (vendor_id IS NULL OR $3::uuid IS NULL OR vendor_id = $3) ORDER BY created_at`,
    [input.startsAt, input.endsAt, vendorId],
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
  return ctx.tx(async (tx) => {
    if (vendorId) await assertInZones(tx, actor, 'vendor', vendorId);
    const warnings = await overlaps(tx, input, vendorId);
    const [{ id }] = (await mapConstraintErrors(
      () =>
        tx.query<{ id: string }>(
          `INSERT INTO promotions (vendor_id, name_ar, name_en, kind, percent_bps, amount_minor, buy_qty, get_qty, tiers, min_purchase_minor, max_discount_minor,
                                   starts_at, ends_at, zone_ids, product_ids, category_ids, coupon_code, usage_limit, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
          [
            vendorId,
            input.name.ar,
            input.name.en,
            input.kind,
            input.kind === 'PERCENT' ? input.percentBps : null,
            input.kind === 'FIXED' ? input.amount : null,
            input.kind === 'BUY_X_GET_Y' ? input.buyQty : null,
            input.kind === 'BUY_X_GET_Y' ? input.getQty : null,
            input.kind === 'TIERED' ? JSON.stringify(input.tiers) : null,
            input.minPurchase,
            input.maxDiscount ?? null,
            input.startsAt,
            input.endsAt,
            input.zoneIds,
            input.productIds,
            input.categoryIds,
            input.couponCode ?? null,
            input.usageLimit ?? null,
            actor.userId,
          ],
        ),
      'this coupon code is taken',
    )) as [{ id: string }];
    await audit(tx, 'PROMOTION_CREATE', { type: 'promotion', id }, { vendorId, kind: input.kind });
    return { promotion: toPromotion(await find(tx, id)), warnings };
  });
}

export async function listPromotions(ctx: Ctx, input: ParsedInputOf<'promotions:list'>): Promise<ResultOf<'promotions:list'>> {
  const actor = actorOf(ctx);
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const where = isAdmin(actor.role)
    ? [zoneScope(actor, 'promotion', sql.raw('promotions.id')).toText(bind)]
    : [`(vendor_id IS NULL OR vendor_id = ${bind(actor.vendorId)})`];
  if (input.vendorId) where.push(`vendor_id = ${bind(input.vendorId)}`);
  if (input.active !== undefined) where.push(`active = ${bind(input.active)}`);
  if (input.cursor) {
    const [at, id] = decodeCursor(input.cursor, ['timestamptz', 'uuid']);
    where.push(`(created_at, id) < (${bind(at)}::timestamptz, ${bind(id)}::uuid)`);
  }
  const rows = await ctx.read((r) =>
    r.query<PromotionRecord & { created_key: string }>(
      `SELECT *, created_at::text AS created_key FROM promotions WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${bind(input.limit + 1)}`,
      params,
    ),
  );
  return page(rows, input.limit, toPromotion, (p) => [p.created_key, p.id]);
}

export async function getPromotion(ctx: Ctx, { id }: ParsedInputOf<'promotions:get'>): Promise<ResultOf<'promotions:get'>> {
  return ctx.read(async (r) => {
    const p = await find(r, id);
    await assertReach(r, actorOf(ctx), p, false);
    return toPromotion(p);
  });
}

export async function setPromotionActive(ctx: Ctx, { id, active }: ParsedInputOf<'promotions:set-active'>): Promise<ResultOf<'promotions:set-active'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (tx) => {
    await assertReach(tx, actor, await find(tx, id), true);
    await tx.query('UPDATE promotions SET active = $2 WHERE id = $1', [id, active]);
    await audit(tx, 'PROMOTION_STATUS', { type: 'promotion', id }, { active });
    return toPromotion(await find(tx, id));
  });
}
