import { z } from 'zod';
import { Id, IsoTime, L10n, Minor, OrderMinor, PageInput, Price, pageOf } from './common.js';
import { defineEvents } from './spec.js';
import { ADMINS } from './users.js';

export const PromotionKind = z.enum(['PERCENT', 'FIXED', 'BUY_X_GET_Y', 'TIERED']);

const Bps = z.int().min(1).max(10_000);
/** Quantity tiers: the highest tier whose minQty the eligible units reach gives its percentage. */
const Tiers = z
  .array(z.strictObject({ minQty: z.int().min(1), percentBps: Bps }))
  .min(1)
  .max(10)
  .refine((ts) => ts.every((t, i) => i === 0 || t.minQty > ts[i - 1]!.minQty), 'tiers in rising minQty');

export const Promotion = z.object({
  id: Id,
  vendorId: Id.nullable(),
  name: L10n,
  kind: PromotionKind,
  percentBps: z.int().nullable(),
  amount: Minor.nullable(),
  buyQty: z.int().nullable(),
  getQty: z.int().nullable(),
  tiers: z.array(z.object({ minQty: z.int(), percentBps: z.int() })).nullable(),
  minPurchase: Minor,
  maxDiscount: Minor.nullable(),
  startsAt: IsoTime,
  endsAt: IsoTime,
  zoneIds: z.array(Id),
  productIds: z.array(Id),
  categoryIds: z.array(Id),
  couponCode: z.string().nullable(),
  usageLimit: z.int().nullable(),
  usedCount: z.int(),
  active: z.boolean(),
  createdAt: IsoTime,
});
export type Promotion = z.infer<typeof Promotion>;

const PromotionInput = z
  .strictObject({
    /** Admins: a vendor's promotion, or none for a platform-wide one; managers: always their own vendor. */
    vendorId: Id.optional(),
    name: L10n,
    kind: PromotionKind,
    percentBps: Bps.optional(),
    amount: Price.min(1).optional(),
    buyQty: z.int().min(1).max(1000).optional(),
    getQty: z.int().min(1).max(1000).optional(),
    tiers: Tiers.optional(),
    minPurchase: OrderMinor.default(0),
    maxDiscount: OrderMinor.min(1).optional(),
    startsAt: IsoTime,
    endsAt: IsoTime,
    zoneIds: z.array(Id).max(100).default([]),
    productIds: z.array(Id).max(1000).default([]),
    categoryIds: z.array(Id).max(100).default([]),
    couponCode: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{3,64}$/, 'letters, digits, - and _')
      .optional(),
    usageLimit: z.int().min(1).optional(),
  })
  .refine((p) => new Date(p.endsAt) > new Date(p.startsAt), { message: 'endsAt must be after startsAt', path: ['endsAt'] })
  .refine((p) => p.kind !== 'PERCENT' || p.percentBps !== undefined, { message: 'PERCENT needs percentBps', path: ['percentBps'] })
  .refine((p) => p.kind !== 'FIXED' || p.amount !== undefined, { message: 'FIXED needs amount', path: ['amount'] })
  .refine((p) => p.kind !== 'BUY_X_GET_Y' || (p.buyQty !== undefined && p.getQty !== undefined), {
    message: 'BUY_X_GET_Y needs buyQty and getQty',
    path: ['buyQty'],
  })
  .refine((p) => p.kind !== 'TIERED' || p.tiers !== undefined, { message: 'TIERED needs tiers', path: ['tiers'] });

const MANAGERS = [...ADMINS, 'COMPANY_MANAGER'] as const;

export const promotionEvents = defineEvents({
  'promotions:create': {
    summary:
      'Create a promotion. One that overlaps another in time, zones and items is created with a warning; one that would apply to exactly the same items as another automatic promotion is refused (CONFLICT).',
    roles: MANAGERS,
    input: PromotionInput,
    result: z.object({ promotion: Promotion, warnings: z.array(z.object({ promotionId: Id, message: z.string() })) }),
  },
  'promotions:list': {
    summary: 'Promotions: admins all, managers their vendor’s and platform-wide ones.',
    roles: MANAGERS,
    input: z.strictObject({ vendorId: Id.optional(), active: z.boolean().optional(), ...PageInput }),
    result: pageOf(Promotion),
  },
  'promotions:get': { summary: 'One promotion.', roles: MANAGERS, input: z.strictObject({ id: Id }), result: Promotion },
  'promotions:set-active': {
    summary: 'Switch a promotion off or on again.',
    roles: MANAGERS,
    input: z.strictObject({ id: Id, active: z.boolean() }),
    result: Promotion,
  },
});
