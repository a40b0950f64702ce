import { z } from 'zod';
import { CashMinor, Id, IdempotencyKey, IsoTime, Minor, PageInput, pageOf } from './common.js';
import { defineEvents, definePushes } from './spec.js';
import { ADMINS } from './users.js';

const Reason = z.string().trim().min(1).max(500);
/** A signed amount: balances and differences can be below zero. */
const Signed = z.int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const STAFF = ['COMPANY_MANAGER', 'VENDOR'] as const;
const Range = { from: IsoTime, to: IsoTime };
const ranged = <T extends z.ZodObject>(o: T) =>
  o.refine((i) => new Date(i.to as string) > new Date(i.from as string), { message: 'to must be after from', path: ['to'] });

export const CashCollection = z.object({
  id: Id,
  orderId: Id,
  driverId: Id,
  expected: Minor,
  collected: Minor,
  /** collected − expected: below zero when the driver came back short. */
  difference: Signed,
  reason: z.string().nullable(),
  at: IsoTime,
});
export type CashCollection = z.infer<typeof CashCollection>;

export const Handover = z.object({ id: Id, driverId: Id, amount: Minor, receivedBy: Id, vendorId: Id.nullable(), remaining: Minor, at: IsoTime });

export const SettlementStatus = z.enum(['CREATED', 'VERIFIED', 'PAID']);
export const Settlement = z.object({
  id: Id,
  vendorId: Id,
  periodStart: IsoTime,
  periodEnd: IsoTime,
  status: SettlementStatus,
  /** What shops paid for the goods of the settled orders (after discounts, before delivery fees). */
  gross: Minor,
  commission: Minor,
  /** Delivery fees collected on those orders: the platform's, shown for the record. */
  deliveryFees: Minor,
  /** Cash the vendor's staff already took from drivers, netted here (negative). */
  adjustments: Signed,
  /** gross − commission + adjustments: what the platform pays the vendor (below zero: what the vendor owes). */
  netPayable: Signed,
  orderIds: z.array(Id),
  createdAt: IsoTime,
  verifiedAt: IsoTime.nullable(),
  paidAt: IsoTime.nullable(),
});
export type Settlement = z.infer<typeof Settlement>;

const Preset = z.enum(['daily', 'weekly', 'monthly']);

export const financeEvents = defineEvents({
  'cash:collect': {
    summary:
      'The assigned driver records the cash taken for a DELIVERED order; a difference from the total needs a reason, and an amount beyond the tolerance (CASH_TOLERANCE_BPS of the total either way) is refused with AMOUNT_OUT_OF_RANGE { expectedMinor, minMinor, maxMinor }.',
    roles: ['DRIVER'],
    input: z.strictObject({ orderId: Id, amount: CashMinor, reason: Reason.optional(), idempotencyKey: IdempotencyKey }),
    result: CashCollection,
  },
  'cash:handover': {
    summary: 'A driver hands cash to vendor staff (into the vendor’s till) or to a platform cashier (an admin); never more than the driver holds.',
    roles: [...ADMINS, ...STAFF],
    input: z.strictObject({ driverId: Id, amount: CashMinor.min(1), idempotencyKey: IdempotencyKey, note: z.string().trim().max(500).optional() }),
    result: Handover,
  },
  'settlements:create': {
    summary:
      'Settle a vendor’s delivered, cash-collected orders of a period (a preset ending now, or from–to) not settled before. Idempotent; an order is never settled twice.',
    roles: ADMINS,
    input: z
      .strictObject({ vendorId: Id, preset: Preset.optional(), periodStart: IsoTime.optional(), periodEnd: IsoTime.optional(), idempotencyKey: IdempotencyKey })
      .refine((i) => Boolean(i.preset) !== Boolean(i.periodStart && i.periodEnd), { message: 'give a preset, or periodStart and periodEnd', path: ['preset'] }),
    result: Settlement,
  },
  'settlements:list': {
    summary: 'Settlements, newest first: admins all, vendor staff their own.',
    roles: [...ADMINS, ...STAFF],
    input: z.strictObject({ vendorId: Id.optional(), status: SettlementStatus.optional(), ...PageInput }),
    result: pageOf(Settlement),
  },
  'settlements:get': { summary: 'One settlement with its orders.', roles: [...ADMINS, ...STAFF], input: z.strictObject({ id: Id }), result: Settlement },
  'settlements:verify': { summary: 'An admin checks a CREATED settlement (audited).', roles: ADMINS, input: z.strictObject({ id: Id }), result: Settlement },
  'settlements:mark-paid': {
    summary: 'An admin records that a VERIFIED settlement was paid; this posts the payment to the ledger (audited).',
    roles: ADMINS,
    input: z.strictObject({ id: Id }),
    result: Settlement,
  },
  'settlements:export': {
    summary: 'Settlement history as CSV: the URL of a file with one row per settlement.',
    roles: [...ADMINS, ...STAFF],
    input: z.strictObject({ vendorId: Id.optional() }),
    result: z.object({ url: z.string(), rows: z.int() }),
  },
  'finance:vendor-balance': {
    summary: 'What the platform owes a vendor now: payable from collected orders, less cash its staff hold from drivers.',
    roles: [...ADMINS, ...STAFF],
    input: z.strictObject({ vendorId: Id }),
    result: z.object({ vendorId: Id, payable: Signed, cashHeld: Signed, net: Signed }),
  },
  'finance:platform-earnings': {
    summary: 'Commission and delivery-fee revenue and cash differences posted in [from, to). Admins not limited to zones.',
    roles: ADMINS,
    input: ranged(z.strictObject(Range)),
    result: z.object({ from: IsoTime, to: IsoTime, commission: Signed, deliveryFees: Signed, cashDifferences: Signed, total: Signed }),
  },
  'finance:cash-flow': {
    summary: 'Cash moved in [from, to): collected from shops, handed to vendors and to the platform, paid out in settlements. Admins not limited to zones.',
    roles: ADMINS,
    input: ranged(z.strictObject(Range)),
    result: z.object({ from: IsoTime, to: IsoTime, collected: Signed, toVendors: Signed, toPlatform: Signed, paidToVendors: Signed }),
  },
  'finance:pending-cash': {
    summary:
      'Who holds cash now: every driver with cash on hand, how much, and since when (oldest collection not yet handed over). Admins not limited to zones.',
    roles: ADMINS,
    input: z.strictObject({}),
    result: z.object({ items: z.array(z.object({ driverId: Id, name: z.string(), amount: Minor, since: IsoTime })), total: Minor }),
  },
});

export const financePushes = definePushes({
  'cash:collected': { summary: 'A driver collected cash for one of this vendor’s orders.', to: 'vendor:<id>, admins', data: CashCollection, stored: true },
});
