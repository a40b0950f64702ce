import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Settlement } from '../../protocol/finance.js';
import { sql, type Sql } from '../../db/sql.js';
import type { OrderRow, SettlementRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import { audit } from '../audit.js';
import type { Actor } from '../auth/actor.js';
import { assertInZones, zoneScope } from '../auth/zone-scope.js';
import { formatCsv } from '../catalog/csv.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { notify, vendorManagers } from '../notifications/notify.js';
import { formatDay, formatMoney } from '../notifications/templates.js';
import { afterCursor, page } from '../pagination.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { assertTransition, type Transitions } from '../transitions.js';
import { saveExport } from '../uploads/exports.js';
import { isAdmin } from '../auth/zone-scope.js';
import { loadVendor } from '../vendors/vendors.service.js';
import { account, balances, commissionOf, post } from './ledger.js';
import { minorOf, sumMinor } from './money.js';

type SettlementStatus = Settlement['status'];

/** A settlement is checked by a second person before it is paid; a paid one is final. */
export const SETTLEMENT_TRANSITIONS = {
  CREATED: ['VERIFIED'],
  VERIFIED: ['PAID'],
  PAID: [],
} as const satisfies Transitions<SettlementStatus>;

/** A settlement with its orders, and `created_at` at full precision for cursors. */
type SettlementView = SettlementRow & { order_ids: string[]; created_key: string };

const SELECT = sql`SELECT s.*, s.created_at::text AS created_key, ARRAY(SELECT so.order_id FROM settlement_orders so WHERE so.settlement_id = s.id ORDER BY so.order_id) AS order_ids FROM settlements s`;
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

const toSettlement = (s: SettlementView): Settlement => ({
  id: s.id,
  vendorId: s.vendor_id,
  periodStart: iso(s.period_start)!,
  periodEnd: iso(s.period_end)!,
  // The column is checked against the same three statuses (settlements_status_check).
  status: s.status as SettlementStatus,
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

async function find(r: Reader, actor: Actor, id: string, lock = false): Promise<SettlementView> {
  const [row] = await r.query<SettlementView>(sql`${SELECT} WHERE s.id = ${id}${lock ? sql` FOR UPDATE OF s` : sql.empty}`);
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
  return ctx.tx(async (ctx) => {
    await loadVendor(ctx, actor, input.vendorId, true);
    const orders = await ctx.query<Pick<OrderRow, 'id'> & { goods: number; fee: OrderRow['delivery_fee_minor']; bps: OrderRow['commission_bps'] }>(sql`
      SELECT o.id, (o.subtotal_minor - o.discount_minor)::bigint AS goods, o.delivery_fee_minor AS fee, o.commission_bps AS bps
        FROM orders o JOIN cash_collections c ON c.order_id = o.id
       WHERE o.vendor_id = ${input.vendorId} AND c.at >= ${start} AND c.at < ${end} AND NOT EXISTS (SELECT 1 FROM settlement_orders so WHERE so.order_id = o.id)
       ORDER BY c.at, o.id`);
    if (orders.length === 0) throw new AppError('CONFLICT', 'no unsettled collected orders of this vendor in the period');
    const commissions = orders.map((o) => commissionOf(o.goods, o.bps));
    const gross = sumMinor(orders.map((o) => o.goods));
    const commission = sumMinor(commissions);
    const fees = sumMinor(orders.map((o) => o.fee));
    const till = (await balances(ctx, [account.vendorCash(input.vendorId)])).get(account.vendorCash(input.vendorId))!;
    const [{ pending }] = (await ctx.query<{ pending: string }>(
      sql`SELECT coalesce(-sum(adjustments_minor), 0)::text AS pending FROM settlements WHERE vendor_id = ${input.vendorId} AND status <> 'PAID'`,
    )) as [{ pending: string }];
    const adjustments = -Math.max(till - minorOf(pending), 0);
    const net = gross - commission + adjustments;
    const [{ id }] = (await ctx.query<Pick<SettlementRow, 'id'>>(sql`
      INSERT INTO settlements (vendor_id, period_start, period_end, gross_minor, commission_minor, delivery_fees_minor, adjustments_minor, net_minor, created_by)
      VALUES (${input.vendorId}, ${start}, ${end}, ${gross}, ${commission}, ${fees}, ${adjustments}, ${net}, ${actor.userId}) RETURNING id`)) as [
      Pick<SettlementRow, 'id'>,
    ];
    const orderIds = orders.map((o) => o.id);
    await ctx.query(
      sql`INSERT INTO settlement_orders (settlement_id, order_id, commission_minor) SELECT ${id}, unnest(${orderIds}::uuid[]), unnest(${commissions}::bigint[])`,
    );
    await audit(ctx, 'SETTLEMENT_CREATE', { type: 'settlement', id }, { vendorId: input.vendorId, orders: orders.length, net });
    const settlement = toSettlement(await find(ctx, actor, id));
    await tellManagers(ctx, 'settlement.created', settlement);
    return settlement;
  });
}

/** The vendor's managers hear of each step of its settlement. */
async function tellManagers(ctx: TxCtx, kind: 'settlement.created' | 'settlement.verified' | 'settlement.paid', s: Settlement): Promise<void> {
  await notify(ctx, {
    kind,
    userIds: await vendorManagers(ctx, s.vendorId),
    vars: { from: formatDay(s.periodStart), to: formatDay(s.periodEnd), orders: s.orderIds.length, net: formatMoney(s.netPayable, ctx.deps.config.currency) },
    link: { type: 'settlement', id: s.id },
  });
}

const ADVANCE_NEWS = { VERIFIED: 'settlement.verified', PAID: 'settlement.paid' } as const;

/** Moves a settlement to `to` under its row lock, as the table allows, doing the step's `work` in the same transaction. */
async function advance(
  ctx: Ctx,
  id: string,
  to: 'VERIFIED' | 'PAID',
  work: (ctx: TxCtx, s: SettlementView, actor: Actor) => Promise<void>,
): Promise<Settlement> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    const s = await find(ctx, actor, id, true);
    assertTransition(SETTLEMENT_TRANSITIONS, 'settlement', s.status as SettlementStatus, to);
    await work(ctx, s, actor);
    const settlement = toSettlement(await find(ctx, actor, id));
    await tellManagers(ctx, ADVANCE_NEWS[to], settlement);
    return settlement;
  });
}

export const verifySettlement = (ctx: Ctx, { id }: ParsedInputOf<'settlements:verify'>): Promise<ResultOf<'settlements:verify'>> =>
  advance(ctx, id, 'VERIFIED', async (ctx, _s, actor) => {
    await ctx.query(sql`UPDATE settlements SET status = 'VERIFIED', verified_by = ${actor.userId}, verified_at = now() WHERE id = ${id}`);
    await audit(ctx, 'SETTLEMENT_VERIFY', { type: 'settlement', id });
  });

/** Paying clears the vendor's payable for these orders, the netted till cash, and takes the rest from the platform's cash. */
export const markSettlementPaid = (ctx: Ctx, { id }: ParsedInputOf<'settlements:mark-paid'>): Promise<ResultOf<'settlements:mark-paid'>> =>
  advance(ctx, id, 'PAID', async (ctx, s, actor) => {
    const txId = await post(ctx, { kind: 'SETTLEMENT_PAID', actorId: actor.userId, memo: `settlement ${id}` }, [
      [account.vendorPayable(s.vendor_id), s.gross_minor - s.commission_minor],
      [account.vendorCash(s.vendor_id), s.adjustments_minor],
      [account.platformCash, -s.net_minor],
    ]);
    await ctx.query(sql`UPDATE settlements SET status = 'PAID', paid_by = ${actor.userId}, paid_at = now(), ledger_tx = ${txId} WHERE id = ${id}`);
    await audit(ctx, 'SETTLEMENT_PAID', { type: 'settlement', id }, { net: s.net_minor });
  });

export async function getSettlement(ctx: Ctx, { id }: ParsedInputOf<'settlements:get'>): Promise<ResultOf<'settlements:get'>> {
  return toSettlement(await find(ctx, actorOf(ctx), id));
}

/** The settlements a caller reaches: staff their vendor's (asking for another's is FORBIDDEN), admins all (or their zones'). */
function scopeOf(actor: Actor, vendorId: string | undefined): Sql {
  if (!isAdmin(actor.role)) {
    if (vendorId && vendorId !== actor.vendorId) throw forbidden('you see only your own vendor’s money');
    return sql`s.vendor_id = ${actor.vendorId}`;
  }
  return sql.and([zoneScope(actor, 'settlement', sql`s.id`), ...(vendorId ? [sql`s.vendor_id = ${vendorId}`] : [])]);
}

export async function listSettlements(ctx: Ctx, input: ParsedInputOf<'settlements:list'>): Promise<ResultOf<'settlements:list'>> {
  const where = sql.and([
    scopeOf(actorOf(ctx), input.vendorId),
    ...(input.status ? [sql`s.status = ${input.status}`] : []),
    afterCursor(input.cursor, [
      [sql`s.created_at`, 'timestamptz'],
      [sql`s.id`, 'uuid'],
    ]),
  ]);
  const rows = await ctx.query<SettlementView>(sql`${SELECT} WHERE ${where} ORDER BY s.created_at DESC, s.id DESC LIMIT ${input.limit + 1}`);
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
  const rows = await ctx.query<SettlementView>(sql`${SELECT} WHERE ${scopeOf(actorOf(ctx), input.vendorId)} ORDER BY s.created_at, s.id`);
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
