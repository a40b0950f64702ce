import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { likeContaining, sql } from '../../db/sql.js';
import type { Vendor, VendorStatus } from '../../protocol/vendors.js';
import type { OrderRow, VendorCommissionRow, VendorRow } from '../../db/tables.js';
import { adminRooms, rooms } from '../auth/actor.js';
import { assertInZones, assertWithinZones, mergeZones, zoneScope } from '../auth/zone-scope.js';
import { audit } from '../audit.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { tell } from '../outbox/outbox.js';
import { afterCursor, page } from '../pagination.js';
import { TREE_CACHE } from '../catalog/categories.service.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { assertTransition, type Transitions } from '../transitions.js';
import type { Actor } from '../auth/actor.js';
import type { Reader } from '../../db/tx.js';
import { isAdmin } from '../auth/zone-scope.js';
import { assertActiveZones } from '../zones/zones.service.js';

/** Which status may follow which; anything else is INVALID_TRANSITION. */
export const VENDOR_TRANSITIONS = {
  PENDING: ['APPROVED', 'REJECTED'],
  APPROVED: ['SUSPENDED'],
  SUSPENDED: ['APPROVED'],
  REJECTED: ['APPROVED'],
} as const satisfies Transitions<VendorStatus>;

/** A vendor with its zones and commission history, as `SELECT` reads it. */
type VendorView = Pick<VendorRow, 'id' | 'name' | 'status_reason' | 'commission_bps' | 'created_at' | 'acceptance_window_s'> & {
  // The table's check keeps the status within VendorStatus.
  status: VendorStatus;
  name_key: string;
  zones: Array<{ zoneId: string; deliveryFee: number; minOrderValue: number }>;
  history: Array<{ commissionBps: number; effectiveFrom: string }>;
};

const SELECT = sql`SELECT v.id, v.name, v.status, v.status_reason, v.commission_bps, v.created_at, v.acceptance_window_s, lower(v.name) AS name_key,
  coalesce((SELECT json_agg(json_build_object('zoneId', vz.zone_id, 'deliveryFee', vz.delivery_fee_minor, 'minOrderValue', vz.min_order_minor) ORDER BY vz.zone_id)
              FROM vendor_zones vz WHERE vz.vendor_id = v.id), '[]') AS zones,
  coalesce((SELECT json_agg(json_build_object('commissionBps', c.commission_bps, 'effectiveFrom', c.effective_from) ORDER BY c.effective_from DESC, c.id DESC)
              FROM vendor_commissions c WHERE c.vendor_id = v.id), '[]') AS history
  FROM vendors v`;

const toVendor = (v: VendorView, defaultWindowS: number): Vendor => ({
  id: v.id,
  name: v.name,
  status: v.status,
  statusReason: v.status_reason,
  commissionBps: v.commission_bps,
  commissionHistory: v.history.map((h) => ({ commissionBps: h.commissionBps, effectiveFrom: new Date(h.effectiveFrom).toISOString() })),
  zones: v.zones,
  acceptanceWindowS: v.acceptance_window_s ?? defaultWindowS,
  acceptanceWindowDefault: v.acceptance_window_s === null,
  createdAt: new Date(v.created_at).toISOString(),
});

async function find(r: Reader, id: string): Promise<VendorView | undefined> {
  return (await r.query<VendorView>(sql`${SELECT} WHERE v.id = ${id}`))[0];
}

/** Staff and managers reach only their own vendor; a zone-limited admin only vendors serving its zones (NOT_FOUND). */
export async function loadVendor(r: Reader, actor: Actor, id: string, lock = false): Promise<VendorView> {
  if (lock) await r.query(sql`SELECT 1 FROM vendors WHERE id = ${id} FOR UPDATE`);
  const v = await find(r, id);
  if (!v) throw notFound('vendor');
  await assertInZones(r, actor, 'vendor', id);
  if (!isAdmin(actor.role) && actor.vendorId !== v.id) throw forbidden('you manage only your own vendor');
  return v;
}

async function setZones(ctx: TxCtx, vendorId: string, zones: ParsedInputOf<'vendors:create'>['zones']): Promise<void> {
  const zoneIds = zones.map((z) => z.zoneId);
  await assertActiveZones(ctx, zoneIds);
  await ctx.query(sql`DELETE FROM vendor_zones WHERE vendor_id = ${vendorId}`);
  await ctx.query(sql`
    INSERT INTO vendor_zones (vendor_id, zone_id, delivery_fee_minor, min_order_minor)
    SELECT ${vendorId}, unnest(${zoneIds}::uuid[]), unnest(${zones.map((z) => z.deliveryFee)}::bigint[]), unnest(${zones.map((z) => z.minOrderValue)}::bigint[])`);
  // A product is sold only where its vendor delivers.
  await ctx.query(sql`
    DELETE FROM product_zones pz USING products p WHERE pz.product_id = p.id AND p.vendor_id = ${vendorId} AND NOT (pz.zone_id = ANY(${zoneIds}::uuid[]))`);
}

async function recordCommission(ctx: TxCtx, vendorId: string, commissionBps: number): Promise<void> {
  await ctx.query(sql`INSERT INTO vendor_commissions (vendor_id, commission_bps, set_by) VALUES (${vendorId}, ${commissionBps}, ${actorOf(ctx).userId})`);
}

export async function createVendor(ctx: Ctx, input: ParsedInputOf<'vendors:create'>): Promise<ResultOf<'vendors:create'>> {
  const actor = actorOf(ctx);
  assertWithinZones(
    actor,
    input.zones.map((z) => z.zoneId),
  );
  return ctx.tx(async (ctx) => {
    ctx.deps.cache.invalidateAfter(ctx, TREE_CACHE);
    const [row] = await ctx.query<Pick<VendorRow, 'id'>>(
      sql`INSERT INTO vendors (name, commission_bps) VALUES (${input.name}, ${input.commissionBps}) RETURNING id`,
    );
    const id = row!.id;
    await recordCommission(ctx, id, input.commissionBps);
    await setZones(ctx, id, input.zones);
    await audit(ctx, 'VENDOR_CREATE', { type: 'vendor', id }, { name: input.name, commissionBps: input.commissionBps });
    return toVendor((await find(ctx, id))!, ctx.deps.config.deadlines.acceptanceWindowS);
  });
}

export async function listVendors(ctx: Ctx, input: ParsedInputOf<'vendors:list'>): Promise<ResultOf<'vendors:list'>> {
  const actor = actorOf(ctx);
  const where = [
    zoneScope(actor, 'vendor', sql`x.id`),
    afterCursor(
      input.cursor,
      [
        [sql`x.name_key`, 'text'],
        [sql`x.id`, 'uuid'],
      ],
      'asc',
    ),
  ];
  if (input.q) where.push(sql`x.name ILIKE ${likeContaining(input.q)}`);
  if (input.status) where.push(sql`x.status = ${input.status}`);
  if (input.zoneId) where.push(sql`EXISTS (SELECT 1 FROM vendor_zones z WHERE z.vendor_id = x.id AND z.zone_id = ${input.zoneId})`);
  const rows = await ctx.query<VendorView>(sql`SELECT * FROM (${SELECT}) x WHERE ${sql.and(where)} ORDER BY x.name_key, x.id LIMIT ${input.limit + 1}`);
  return page(
    rows,
    input.limit,
    (v) => toVendor(v, ctx.deps.config.deadlines.acceptanceWindowS),
    (r) => [r.name_key, r.id],
  );
}

export async function getVendor(ctx: Ctx, { id }: ParsedInputOf<'vendors:get'>): Promise<ResultOf<'vendors:get'>> {
  return toVendor(await loadVendor(ctx, actorOf(ctx), id), ctx.deps.config.deadlines.acceptanceWindowS);
}

export async function updateVendor(ctx: Ctx, input: ParsedInputOf<'vendors:update'>): Promise<ResultOf<'vendors:update'>> {
  const actor = actorOf(ctx);
  if (input.commissionBps !== undefined && !isAdmin(actor.role)) throw forbidden('only admins set the commission');
  const { minS, maxS } = ctx.deps.config.deadlines;
  const windowS = input.acceptanceWindowS;
  if (windowS != null && (windowS < minS || windowS > maxS)) {
    throw new AppError('BAD_REQUEST', `the acceptance window must be between ${minS} and ${maxS} seconds`, {
      field: 'acceptanceWindowS',
      min: minS,
      max: maxS,
    });
  }
  return ctx.tx(async (ctx) => {
    ctx.deps.cache.invalidateAfter(ctx, TREE_CACHE);
    const current = await loadVendor(ctx, actor, input.id, true);
    if (input.name) await ctx.query(sql`UPDATE vendors SET name = ${input.name}, updated_at = now() WHERE id = ${input.id}`);
    if (input.zones)
      await setZones(
        ctx,
        input.id,
        mergeZones(actor, current.zones, input.zones, (z) => z.zoneId),
      );
    if (windowS !== undefined) await ctx.query(sql`UPDATE vendors SET acceptance_window_s = ${windowS}, updated_at = now() WHERE id = ${input.id}`);
    if (input.commissionBps !== undefined && input.commissionBps !== current.commission_bps) {
      await ctx.query(sql`UPDATE vendors SET commission_bps = ${input.commissionBps}, updated_at = now() WHERE id = ${input.id}`);
      await recordCommission(ctx, input.id, input.commissionBps);
      await audit(ctx, 'COMMISSION_CHANGE', { type: 'vendor', id: input.id }, { from: current.commission_bps, to: input.commissionBps });
    }
    await audit(ctx, 'VENDOR_UPDATE', { type: 'vendor', id: input.id }, { fields: Object.keys(input).filter((k) => k !== 'id') });
    return toVendor((await find(ctx, input.id))!, ctx.deps.config.deadlines.acceptanceWindowS);
  });
}

export async function setVendorStatus(ctx: Ctx, input: ParsedInputOf<'vendors:set-status'>): Promise<ResultOf<'vendors:set-status'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    ctx.deps.cache.invalidateAfter(ctx, TREE_CACHE);
    const current = await loadVendor(ctx, actor, input.id, true);
    assertTransition(VENDOR_TRANSITIONS, 'vendor', current.status, input.status);
    await ctx.query(sql`UPDATE vendors SET status = ${input.status}, status_reason = ${input.reason}, updated_at = now() WHERE id = ${input.id}`);
    await audit(ctx, 'VENDOR_STATUS', { type: 'vendor', id: input.id }, { from: current.status, to: input.status, reason: input.reason });
    await tell(
      ctx,
      [...current.zones.map((z) => rooms.zone(z.zoneId)), rooms.vendor(input.id), ...adminRooms(current.zones.map((z) => z.zoneId))],
      'vendor:status',
      {
        vendorId: input.id,
        status: input.status,
        reason: input.reason,
      },
    );
    return toVendor((await find(ctx, input.id))!, ctx.deps.config.deadlines.acceptanceWindowS);
  });
}

/** The commission rate in force for a vendor at a moment (orders snapshot it when placed). */
export async function commissionAt(r: Reader, vendorId: string, at: Date = new Date()): Promise<number> {
  const [row] = await r.query<Pick<VendorCommissionRow, 'commission_bps'>>(sql`
    SELECT commission_bps FROM vendor_commissions WHERE vendor_id = ${vendorId} AND effective_from <= ${at} ORDER BY effective_from DESC, id DESC LIMIT 1`);
  if (!row) throw notFound('commission rate');
  return row.commission_bps;
}

interface Stats {
  revenue: number;
  ordered: number;
  accept_s: number | null;
  decided: number;
  rejected: number;
  expired: number;
  overdue: number;
  placed: number;
}

export async function vendorStats(ctx: Ctx, input: ParsedInputOf<'vendors:stats'>): Promise<ResultOf<'vendors:stats'>> {
  const actor = actorOf(ctx);
  await loadVendor(ctx, actor, input.id);
  const inRange = sql`vendor_id = ${input.id} AND created_at >= ${input.from} AND created_at < ${input.to}`;
  const byStatus = await ctx.query<Pick<OrderRow, 'status'> & { n: number }>(
    sql`SELECT status, count(*)::int AS n FROM orders WHERE ${inRange} GROUP BY status ORDER BY status`,
  );
  const [s] = (await ctx.query<Stats>(
    sql`SELECT coalesce(sum(total_minor) FILTER (WHERE status = 'DELIVERED'), 0)::bigint AS revenue,
              coalesce(sum(total_minor) FILTER (WHERE status NOT IN ('REJECTED', 'CANCELLED', 'EXPIRED')), 0)::bigint AS ordered,
              avg(extract(epoch FROM accepted_at - created_at)) FILTER (WHERE accepted_at IS NOT NULL)::float8 AS accept_s,
              count(*) FILTER (WHERE accepted_at IS NOT NULL OR status = 'REJECTED')::int AS decided,
              count(*) FILTER (WHERE status = 'REJECTED')::int AS rejected,
              count(*) FILTER (WHERE status = 'EXPIRED')::int AS expired,
              count(*) FILTER (WHERE escalated_at IS NOT NULL)::int AS overdue,
              count(*)::int AS placed
         FROM orders WHERE ${inRange}`,
  )) as [Stats];
  return {
    vendorId: input.id,
    from: new Date(input.from).toISOString(),
    to: new Date(input.to).toISOString(),
    orders: byStatus.reduce((n, b) => n + b.n, 0),
    byStatus: Object.fromEntries(byStatus.map((b) => [b.status, b.n])),
    revenue: s.revenue,
    orderedValue: s.ordered,
    averageAcceptSeconds: s.accept_s === null ? null : Math.round(s.accept_s * 10) / 10,
    rejectionRate: s.decided === 0 ? null : s.rejected / s.decided,
    expiryRate: s.placed === 0 ? null : s.expired / s.placed,
    overdueRate: s.placed === 0 ? null : s.overdue / s.placed,
  };
}
