import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { Vendor, VendorStatus } from '../../protocol/vendors.js';
import type { Tx } from '../../db/tx.js';
import { adminRooms, rooms } from '../auth/actor.js';
import { assertInZones, assertWithinZones, mergeZones, zoneScope } from '../auth/zone-scope.js';
import { audit } from '../audit.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { push } from '../outbox/outbox.js';
import { decodeCursor, page } from '../pagination.js';
import { TREE_CACHE } from '../catalog/categories.service.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import type { Actor } from '../auth/actor.js';
import type { Reader } from '../../db/tx.js';
import { isAdmin } from '../users/scope.js';
import { assertActiveZones } from '../zones/zones.service.js';

/** Which status may follow which; anything else is INVALID_TRANSITION. */
export const VENDOR_TRANSITIONS = {
  PENDING: ['APPROVED', 'REJECTED'],
  APPROVED: ['SUSPENDED'],
  SUSPENDED: ['APPROVED'],
  REJECTED: ['APPROVED'],
} as const satisfies Record<VendorStatus, readonly VendorStatus[]>;

interface VendorRecord {
  id: string;
  name: string;
  status: VendorStatus;
  status_reason: string | null;
  commission_bps: number;
  created_at: Date;
  name_key: string;
  zones: Array<{ zoneId: string; deliveryFee: number; minOrderValue: number }>;
  history: Array<{ commissionBps: number; effectiveFrom: string }>;
}

const SELECT = `SELECT v.id, v.name, v.status, v.status_reason, v.commission_bps, v.created_at, lower(v.name) AS name_key,
  coalesce((SELECT json_agg(json_build_object('zoneId', vz.zone_id, 'deliveryFee', vz.delivery_fee_minor, 'minOrderValue', vz.min_order_minor) ORDER BY vz.zone_id)
              FROM vendor_zones vz WHERE vz.vendor_id = v.id), '[]') AS zones,
  coalesce((SELECT json_agg(json_build_object('commissionBps', c.commission_bps, 'effectiveFrom', c.effective_from) ORDER BY c.effective_from DESC, c.id DESC)
              FROM vendor_commissions c WHERE c.vendor_id = v.id), '[]') AS history
  FROM vendors v`;

const toVendor = (v: VendorRecord): Vendor => ({
  id: v.id,
  name: v.name,
  status: v.status,
  statusReason: v.status_reason,
  commissionBps: v.commission_bps,
  commissionHistory: v.history.map((h) => ({ commissionBps: h.commissionBps, effectiveFrom: new Date(h.effectiveFrom).toISOString() })),
  zones: v.zones,
  createdAt: new Date(v.created_at).toISOString(),
});

async function find(r: Reader, id: string): Promise<VendorRecord | undefined> {
  return (await r.query<VendorRecord>(`${SELECT} WHERE v.id = $1`, [id]))[0];
}

/** Staff and managers reach only their own vendor; a zone-limited admin only vendors serving its zones (NOT_FOUND). */
export async function loadVendor(tx: Reader, actor: Actor, id: string, lock = false): Promise<VendorRecord> {
  if (lock) await tx.query('SELECT 1 FROM vendors WHERE id = $1 FOR UPDATE', [id]);
  const v = await find(tx, id);
  if (!v) throw notFound('vendor');
  await assertInZones(tx, actor, 'vendor', id);
  if (!isAdmin(actor.role) && actor.vendorId !== v.id) throw forbidden('you manage only your own vendor');
  return v;
}

async function setZones(tx: Tx, vendorId: string, zones: ParsedInputOf<'vendors:create'>['zones']): Promise<void> {
  await assertActiveZones(
    tx,
    zones.map((z) => z.zoneId),
  );
  await tx.query('DELETE FROM vendor_zones WHERE vendor_id = $1', [vendorId]);
  await tx.query(
    'INSERT INTO vendor_zones (vendor_id, zone_id, delivery_fee_minor, min_order_minor) SELECT $1, unnest($2::uuid[]), unnest($3::bigint[]), unnest($4::bigint[])',
    [vendorId, zones.map((z) => z.zoneId), zones.map((z) => z.deliveryFee), zones.map((z) => z.minOrderValue)],
  );
  // A product is sold only where its vendor delivers.
  await tx.query('DELETE FROM product_zones pz USING products p WHERE pz.product_id = p.id AND p.vendor_id = $1 AND NOT (pz.zone_id = ANY($2::uuid[]))', [
    vendorId,
    zones.map((z) => z.zoneId),
  ]);
}

export async function createVendor(ctx: Ctx, input: ParsedInputOf<'vendors:create'>): Promise<ResultOf<'vendors:create'>> {
  const actor = actorOf(ctx);
  assertWithinZones(
    actor,
    input.zones.map((z) => z.zoneId),
  );
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    const [row] = await tx.query<{ id: string }>('INSERT INTO vendors (name, commission_bps) VALUES ($1, $2) RETURNING id', [input.name, input.commissionBps]);
    const id = row!.id;
    await tx.query('INSERT INTO vendor_commissions (vendor_id, commission_bps, set_by) VALUES ($1, $2, $3)', [id, input.commissionBps, actor.userId]);
    await setZones(tx, id, input.zones);
    await audit(tx, 'VENDOR_CREATE', { type: 'vendor', id }, { name: input.name, commissionBps: input.commissionBps });
    return toVendor((await find(tx, id))!);
  });
}

export async function listVendors(ctx: Ctx, input: ParsedInputOf<'vendors:list'>): Promise<ResultOf<'vendors:list'>> {
  const actor = actorOf(ctx);
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const where: string[] = [zoneScope(actor, 'vendor', sql.raw('x.id')).toText(bind)];
  if (input.q) where.push(`x.name ILIKE ${bind(`%${input.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
  if (input.status) where.push(`x.status = ${bind(input.status)}`);
  if (input.zoneId) where.push(`EXISTS (SELECT 1 FROM vendor_zones z WHERE z.vendor_id = x.id AND z.zone_id = ${bind(input.zoneId)})`);
  if (input.cursor) {
    const [name, id] = decodeCursor(input.cursor, ['text', 'uuid']);
    where.push(`(x.name_key, x.id) > (${bind(name)}, ${bind(id)}::uuid)`);
  }
  const rows = await ctx.read((r) =>
    r.query<VendorRecord>(`SELECT * FROM (${SELECT}) x WHERE ${where.join(' AND ')} ORDER BY x.name_key, x.id LIMIT ${bind(input.limit + 1)}`, params),
  );
  return page(rows, input.limit, toVendor, (r) => [r.name_key, r.id]);
}

export async function getVendor(ctx: Ctx, { id }: ParsedInputOf<'vendors:get'>): Promise<ResultOf<'vendors:get'>> {
  return toVendor(await ctx.read((r) => loadVendor(r, actorOf(ctx), id)));
}

export async function updateVendor(ctx: Ctx, input: ParsedInputOf<'vendors:update'>): Promise<ResultOf<'vendors:update'>> {
  const actor = actorOf(ctx);
  if (input.commissionBps !== undefined && !isAdmin(actor.role)) throw forbidden('only admins set the commission');
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    const current = await loadVendor(tx, actor, input.id, true);
    if (input.name) await tx.query('UPDATE vendors SET name = $2, updated_at = now() WHERE id = $1', [input.id, input.name]);
    if (input.zones)
      await setZones(
        tx,
        input.id,
        mergeZones(actor, current.zones, input.zones, (z) => z.zoneId),
      );
    if (input.commissionBps !== undefined && input.commissionBps !== current.commission_bps) {
      await tx.query('UPDATE vendors SET commission_bps = $2, updated_at = now() WHERE id = $1', [input.id, input.commissionBps]);
      await tx.query('INSERT INTO vendor_commissions (vendor_id, commission_bps, set_by) VALUES ($1, $2, $3)', [input.id, input.commissionBps, actor.userId]);
      await audit(tx, 'COMMISSION_CHANGE', { type: 'vendor', id: input.id }, { from: current.commission_bps, to: input.commissionBps });
    }
    await audit(tx, 'VENDOR_UPDATE', { type: 'vendor', id: input.id }, { fields: Object.keys(input).filter((k) => k !== 'id') });
    return toVendor((await find(tx, input.id))!);
  });
}

export async function setVendorStatus(ctx: Ctx, input: ParsedInputOf<'vendors:set-status'>): Promise<ResultOf<'vendors:set-status'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    const current = await loadVendor(tx, actor, input.id, true);
    const allowed: readonly VendorStatus[] = VENDOR_TRANSITIONS[current.status];
    if (!allowed.includes(input.status)) {
      throw new AppError('INVALID_TRANSITION', `a ${current.status} vendor cannot become ${input.status}`, { from: current.status, to: input.status });
    }
    await tx.query('UPDATE vendors SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1', [input.id, input.status, input.reason]);
    await audit(tx, 'VENDOR_STATUS', { type: 'vendor', id: input.id }, { from: current.status, to: input.status, reason: input.reason });
    await push(
      ctx.deps,
      tx,
      [...current.zones.map((z) => rooms.zone(z.zoneId)), rooms.vendor(input.id), ...adminRooms(current.zones.map((z) => z.zoneId))],
      'vendor:status',
      {
        vendorId: input.id,
        status: input.status,
        reason: input.reason,
      },
    );
    return toVendor((await find(tx, input.id))!);
  });
}

/** The commission rate in force for a vendor at a moment (orders snapshot it when placed). */
export async function commissionAt(r: Reader, vendorId: string, at: Date = new Date()): Promise<number> {
  const [row] = await r.query<{ bps: number }>(
    'SELECT commission_bps AS bps FROM vendor_commissions WHERE vendor_id = $1 AND effective_from <= $2 ORDER BY effective_from DESC, id DESC LIMIT 1',
    [vendorId, at],
  );
  if (!row) throw notFound('commission rate');
  return row.bps;
}

export async function vendorStats(ctx: Ctx, input: ParsedInputOf<'vendors:stats'>): Promise<ResultOf<'vendors:stats'>> {
  const actor = actorOf(ctx);
  return ctx.read(async (r) => {
    await loadVendor(r, actor, input.id);
    const byStatus = await r.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM orders WHERE vendor_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY status ORDER BY status',
      [input.id, input.from, input.to],
    );
    const [s] = (await r.query<{ revenue: number; ordered: number; accept_s: number | null; decided: number; rejected: number }>(
      `SELECT coalesce(sum(total_minor) FILTER (WHERE status = 'DELIVERED'), 0)::bigint AS revenue,
              coalesce(sum(total_minor) FILTER (WHERE status NOT IN ('REJECTED', 'CANCELLED')), 0)::bigint AS ordered,
              avg(extract(epoch FROM accepted_at - created_at)) FILTER (WHERE accepted_at IS NOT NULL)::float8 AS accept_s,
              count(*) FILTER (WHERE accepted_at IS NOT NULL OR status = 'REJECTED')::int AS decided,
              count(*) FILTER (WHERE status = 'REJECTED')::int AS rejected
         FROM orders WHERE vendor_id = $1 AND created_at >= $2 AND created_at < $3`,
      [input.id, input.from, input.to],
    )) as [{ revenue: number; ordered: number; accept_s: number | null; decided: number; rejected: number }];
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
    };
  });
}
