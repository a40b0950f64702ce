import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { Settlement } from '../../protocol/finance.js';
import type { Tx } from '../../db/tx.js';
import { audit } from '../audit.js';
import { assertInZones, zoneScope } from '../auth/zone-scope.js';
import { formatCsv } from '../catalog/csv.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { decodeCursor, page } from '../pagination.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import type { Actor } from '../auth/actor.js';
import type { Reader } from '../../db/tx.js';
import { saveExport } from '../uploads/exports.js';
import { isAdmin } from '../users/scope.js';
import { loadVendor } from '../vendors/vendors.service.js';
import { account, balances, commissionOf, post } from './ledger.js';
import { minorOf, sumMinor } from './money.js';

interface SettlementRow {
  id: string;
  vendor_id: string;
  period_start: Date;
  period_end: Date;
  status: Settlement['status'];
  gross_minor: number;
  commission_minor: number;
  delivery_fees_minor: number;
  adjustments_minor: number;
  net_minor: number;
  order_ids: string[];
  created_at: Date;
  created_key: string;
  verified_at: Date | null;
  paid_at: Date | null;
}

const SELECT = `SELECT s.*, s.created_at::text AS created_key, ARRAY(SELECT so.order_id FROM settlement_orders so WHERE so.settlement_id = s.id ORDER BY so.order_id) AS order_ids FROM settlements s`;
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

const toSettlement = (s: SettlementRow): Settlement => ({
  id: s.id,
  vendorId: s.vendor_id,
  periodStart: iso(s.period_start)!,
  periodEnd: iso(s.period_end)!,
  status: s.status,
  gross: s.gross_minor,
  commission: s.commission_minor,
  deliveryFees: s.delivery_fees_minor,
  adjustments: s.adjustments_minor,
  netPayable: s.net_minor,
  orderIds: s.order_ids,
  createdAt: iso(s.created_at)!,
  verifiedAt: iso(s.verified_at),
  paidAt: iso(s.paid_at),
});

/** Vendor staff reach their own vendor's money; admins every vendor's (a zone-limited one: vendors in its zones, others NOT_FOUND). */
export async function assertFinanceReach(r: Reader, actor: Actor, vendorId: string): Promise<void> {
  await assertInZones(r, actor, 'vendor', vendorId);
  if (!isAdmin(actor.role) && actor.vendorId !== vendorId) throw forbidden('you see only your own vendor’s money');
}

async function find(r: Reader, actor: Actor, id: string, lock = false): Promise<SettlementRow> {
  const [row] = await r.query<SettlementRow>(`${SELECT} WHERE s.id = $1${lock ? ' FOR UPDATE OF s' : ''}`, [id]);
  if (!row) throw notFound('settlement');
  await assertInZones(r, actor, 'settlement', id);
  await assertFinanceReach(r, actor, row.vendor_id);
  return row;
}

const PRESET_DAYS = { daily: 1, weekly: 7, monthly: 30 } as const;

/** A preset is the period of that length ending now; otherwise the period given. */
function periodOf(input: ParsedInputOf<'settlements:create'>): [Date, Date] {
  if (input.preset) {
    const end = new Date();
    return [new Date(end.getTime() - PRESET_DAYS[input.preset] * 86_400_000), end];
  }
  const [start, end] = [new Date(input.periodStart!), new Date(input.periodEnd!)];
  if (end <= start) throw new AppError('BAD_REQUEST', 'periodEnd must be after periodStart');
  return [start, end];
}

/**
 * Settles the vendor's orders whose cash was collected in the period and that no settlement holds yet. The vendor
 * row is locked, so two settlements of one vendor run one after the other and never take the same order (the
 * database refuses it too). Cash the vendor's staff already took from drivers is netted, once.
 */
export async function createSettlement(ctx: Ctx, input: ParsedInputOf<'settlements:create'>): Promise<ResultOf<'settlements:create'>> {
  const actor = actorOf(ctx);
  const [start, end] = periodOf(input);
  return ctx.tx(async (tx) => {
    await loadVendor(tx, actor, input.vendorId, true);
    const orders = await tx.query<{ id: string; goods: number; fee: number; bps: number }>(
      `SELECT o.id, (o.subtotal_minor - o.discount_minor)::bigint AS goods, o.delivery_fee_minor AS fee, o.commission_bps AS bps
         FROM orders o JOIN cash_collections c ON c.order_id = o.id
        WHERE o.vendor_id = $1 AND c.at >= $2 AND c.at < $3 AND NOT EXISTS (SELECT 1 FROM settlement_orders so WHERE so.order_id = o.id)
        ORDER BY c.at, o.id`,
      [input.vendorId, start, end],
    );
    if (orders.length === 0) throw new AppError('CONFLICT', 'no unsettled collected orders of this vendor in the period');
    const commissions = orders.map((o) => commissionOf(o.goods, o.bps));
    const gross = sumMinor(orders.map((o) => o.goods));
    const commission = sumMinor(commissions);
    const fees = sumMinor(orders.map((o) => o.fee));
    const till = (await balances(tx, [account.vendorCash(input.vendorId)])).get(account.vendorCash(input.vendorId))!;
    const [{ pending }] = (await tx.query<{ pending: string }>(
      `SELECT coalesce(-sum(adjustments_minor), 0)::text AS pending FROM settlements WHERE vendor_id = $1 AND status <> 'PAID'`,
      [input.vendorId],
    )) as [{ pending: string }];
    const adjustments = -Math.max(till - minorOf(pending), 0);
    const [{ id }] = (await tx.query<{ id: string }>(
      `INSERT INTO settlements (vendor_id, period_start, period_end, gross_minor, commission_minor, delivery_fees_minor, adjustments_minor, net_minor, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [input.vendorId, start, end, gross, commission, fees, adjustments, gross - commission + adjustments, actor.userId],
    )) as [{ id: string }];
    await tx.query('INSERT INTO settlement_orders (settlement_id, order_id, commission_minor) SELECT $1, unnest($2::uuid[]), unnest($3::bigint[])', [
      id,
      orders.map((o) => o.id),
      commissions,
    ]);
    await audit(
      tx,
      'SETTLEMENT_CREATE',
      { type: 'settlement', id },
      { vendorId: input.vendorId, orders: orders.length, net: gross - commission + adjustments },
    );
    return toSettlement(await find(tx, actor, id));
  });
}

async function advance(
  ctx: Ctx,
  id: string,
  from: Settlement['status'],
  work: (tx: TxCtx, s: SettlementRow, actor: Actor) => Promise<void>,
): Promise<Settlement> {
  const actor = actorOf(ctx);
  return ctx.tx(async (tx) => {
    const s = await find(tx, actor, id, true);
    if (s.status !== from) throw new AppError('INVALID_TRANSITION', `a ${s.status} settlement cannot move on from ${from}`);
    await work(tx, s, actor);
    return toSettlement(await find(tx, actor, id));
  });
}

export const verifySettlement = (ctx: Ctx, { id }: ParsedInputOf<'settlements:verify'>): Promise<ResultOf<'settlements:verify'>> =>
  advance(ctx, id, 'CREATED', async (tx, _s, actor) => {
    await tx.query(`UPDATE settlements SET status = 'VERIFIED', verified_by = $2, verified_at = now() WHERE id = $1`, [id, actor.userId]);
    await audit(tx, 'SETTLEMENT_VERIFY', { type: 'settlement', id });
  });

/** Paying clears the vendor's payable for these orders, the netted till cash, and takes the rest from the platform's cash. */
export const markSettlementPaid = (ctx: Ctx, { id }: ParsedInputOf<'settlements:mark-paid'>): Promise<ResultOf<'settlements:mark-paid'>> =>
  advance(ctx, id, 'VERIFIED', async (tx, s, actor) => {
    const txId = await post(tx, { kind: 'SETTLEMENT_PAID', actorId: actor.userId, memo: `settlement ${id}` }, [
      [account.vendorPayable(s.vendor_id), s.gross_minor - s.commission_minor],
      [account.vendorCash(s.vendor_id), s.adjustments_minor],
      [account.platformCash, -s.net_minor],
    ]);
    await tx.query(`UPDATE settlements SET status = 'PAID', paid_by = $2, paid_at = now(), ledger_tx = $3 WHERE id = $1`, [id, actor.userId, txId]);
    await audit(tx, 'SETTLEMENT_PAID', { type: 'settlement', id }, { net: s.net_minor });
  });

export const getSettlement = (ctx: Ctx, { id }: ParsedInputOf<'settlements:get'>): Promise<ResultOf<'settlements:get'>> =>
  ctx.read(async (r) => toSettlement(await find(r, actorOf(ctx), id)));

function scopeOf(actor: Actor, vendorId: string | undefined, bind: (v: unknown) => string): string[] {
  if (!isAdmin(actor.role)) {
    if (vendorId && vendorId !== actor.vendorId) throw forbidden('you see only your own vendor’s money');
    return [`s.vendor_id = ${bind(actor.vendorId)}`];
  }
  return [zoneScope(actor, 'settlement', sql.raw('s.id')).toText(bind), ...(vendorId ? [`s.vendor_id = ${bind(vendorId)}`] : [])];
}

export async function listSettlements(ctx: Ctx, input: ParsedInputOf<'settlements:list'>): Promise<ResultOf<'settlements:list'>> {
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const where = ['true', ...scopeOf(actorOf(ctx), input.vendorId, bind)];
  if (input.status) where.push(`s.status = ${bind(input.status)}`);
  if (input.cursor) {
    const [at, id] = decodeCursor(input.cursor, ['timestamptz', 'uuid']);
    where.push(`(s.created_at, s.id) < (${bind(at)}::timestamptz, ${bind(id)}::uuid)`);
  }
  const rows = await ctx.read((r) =>
    r.query<SettlementRow>(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY s.created_at DESC, s.id DESC LIMIT ${bind(input.limit + 1)}`, params),
  );
  return page(rows, input.limit, toSettlement, (s) => [s.created_key, s.id]);
}

const CSV_HEADER = [
  'id',
  'vendor_id',
  'period_start',
  'period_end',
  'status',
  'orders',
  'gross',
  'commission',
  'delivery_fees',
  'adjustments',
  'net_payable',
  'paid_at',
];

export async function exportSettlements(ctx: Ctx, input: ParsedInputOf<'settlements:export'>): Promise<ResultOf<'settlements:export'>> {
  const params: unknown[] = [];
  const where = ['true', ...scopeOf(actorOf(ctx), input.vendorId, (v) => `$${params.push(v)}`)];
  const rows = await ctx.read((r) => r.query<SettlementRow>(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY s.created_at, s.id`, params));
  const body = formatCsv([
    CSV_HEADER,
    ...rows.map((s) => {
      const v = toSettlement(s);
      return [
        v.id,
        v.vendorId,
        v.periodStart,
        v.periodEnd,
        v.status,
        v.orderIds.length,
        v.gross,
        v.commission,
        v.deliveryFees,
        v.adjustments,
        v.netPayable,
        v.paidAt ?? '',
      ];
    }),
  ]);
  return { url: await saveExport(ctx, body), rows: rows.length };
}
