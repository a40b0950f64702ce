import { z } from 'zod';
import { Empty, Id, IdempotencyKey, IsoTime, L10n, MAX_QUANTITY, Minor, PageInput, Quantity, pageOf } from './common.js';
import { defineEvents, definePushes } from './spec.js';
import { ADMINS } from './users.js';

const Reason = z.string().trim().min(1).max(500);
const VENDOR_STAFF = ['COMPANY_MANAGER', 'VENDOR'] as const;

/** What would stop checkout, per line or per vendor group. */
export const CartProblemCode = z.enum([
  'OUT_OF_STOCK',
  'BELOW_MIN_QTY',
  'MIN_ORDER_NOT_MET',
  'OUT_OF_ZONE',
  'VENDOR_UNAVAILABLE',
  'PRODUCT_UNAVAILABLE',
  'PRICE_CHANGED',
]);
export const CartProblem = z.object({ code: CartProblemCode, message: z.string() });
export type CartProblem = z.infer<typeof CartProblem>;

export const AppliedPromotion = z.object({ id: Id, name: L10n, couponCode: z.string().nullable() });

export const CartItem = z.object({
  productId: Id,
  name: L10n,
  unitPrice: Minor,
  /** The price when the line was added or last updated; differs from unitPrice after a price change. */
  addedPrice: Minor,
  quantity: z.int(),
  lineTotal: Minor,
  stock: z.int(),
  minOrderQty: z.int(),
  problems: z.array(CartProblem),
});

export const CartGroup = z.object({
  vendor: z.object({ id: Id, name: z.string() }),
  items: z.array(CartItem),
  subtotal: Minor,
  discount: Minor,
  promotion: AppliedPromotion.nullable(),
  deliveryFee: Minor,
  total: Minor,
  minOrderValue: Minor,
  problems: z.array(CartProblem),
});

export const Cart = z.object({
  groups: z.array(CartGroup),
  /** The zone the cart is priced for: the chosen address's, else the default address's, else the shop's. */
  zoneId: Id,
  couponCode: z.string().nullable(),
  total: Minor,
  currency: z.string(),
  /** True when every group could be checked out now. */
  ready: z.boolean(),
});
export type Cart = z.infer<typeof Cart>;

export const OrderStatus = z.enum(['PENDING', 'ACCEPTED', 'PREPARING', 'ON_THE_WAY', 'DELIVERED', 'FAILED', 'REJECTED', 'CANCELLED', 'EXPIRED']);
export type OrderStatus = z.infer<typeof OrderStatus>;

export const Order = z.object({
  id: Id,
  number: z.int(),
  checkoutId: Id,
  shopId: Id,
  vendorId: Id,
  vendorName: z.string(),
  zoneId: Id,
  addressId: Id.nullable(),
  status: OrderStatus,
  items: z.array(z.object({ productId: Id, name: L10n, unitPrice: Minor, quantity: z.int(), orderedQuantity: z.int(), lineTotal: Minor })),
  subtotal: Minor,
  discount: Minor,
  promotion: AppliedPromotion.nullable(),
  deliveryFee: Minor,
  total: Minor,
  currency: z.string(),
  /** The platform's rate in force when the order was placed. */
  commissionBps: z.int(),
  note: z.string().nullable(),
  driverId: Id.nullable(),
  /** Expected delivery, from the zone's recent deliveries; set when a driver is assigned and when it leaves. */
  eta: IsoTime.nullable(),
  deliveredAt: IsoTime.nullable(),
  createdAt: IsoTime,
  /** Until when the vendor may accept before its managers and the zone's admins are told; the order expires later if still PENDING (expireAt). */
  acceptBy: IsoTime.nullable(),
  /** When a still-PENDING order is cancelled as EXPIRED; null when expiry is off. */
  expireAt: IsoTime.nullable(),
  timeline: z.array(z.object({ status: OrderStatus, at: IsoTime, by: Id.nullable(), reason: z.string().nullable() })),
});
export type Order = z.infer<typeof Order>;

const CartAnswer = { result: Cart } as const;
const OrderAction = z.strictObject({ orderId: Id });

export const orderingEvents = defineEvents({
  'cart:get': {
    summary: 'The shop owner’s cart, priced now, grouped by vendor, with every problem that would stop checkout.',
    roles: ['SHOP_OWNER'],
    input: z.strictObject({ addressId: Id.optional() }),
    ...CartAnswer,
  },
  'cart:add': {
    summary: 'Add units of a product (added to any already in the cart).',
    roles: ['SHOP_OWNER'],
    input: z.strictObject({ productId: Id, quantity: Quantity }),
    ...CartAnswer,
  },
  'cart:update': {
    summary: 'Set a line’s quantity; this also accepts the product’s current price.',
    roles: ['SHOP_OWNER'],
    input: z.strictObject({ productId: Id, quantity: Quantity }),
    ...CartAnswer,
  },
  'cart:remove': { summary: 'Remove a line.', roles: ['SHOP_OWNER'], input: z.strictObject({ productId: Id }), ...CartAnswer },
  'cart:clear': { summary: 'Empty the cart.', roles: ['SHOP_OWNER'], input: Empty, ...CartAnswer },
  'cart:coupon': {
    summary: 'Apply a coupon code to the cart, or remove it with null.',
    roles: ['SHOP_OWNER'],
    input: z.strictObject({ code: z.string().trim().min(1).max(64).nullable() }),
    ...CartAnswer,
  },
  'cart:checkout': {
    summary:
      'Turn the cart (or the chosen vendor groups) into one order per vendor, at server prices, taking stock. Retrying with the same key returns the same orders.',
    roles: ['SHOP_OWNER'],
    input: z.strictObject({
      idempotencyKey: IdempotencyKey,
      addressId: Id.optional(),
      vendorIds: z.array(Id).min(1).max(50).optional(),
      note: z.string().trim().max(1000).optional(),
    }),
    result: z.object({ checkoutId: Id, orders: z.array(Order) }),
  },
  'orders:list': {
    summary: 'Orders, newest first: a shop its own, vendor staff their vendor’s, a driver those assigned, admins all (in their zones).',
    roles: 'signedIn',
    input: z.strictObject({
      status: OrderStatus.optional(),
      from: IsoTime.optional(),
      to: IsoTime.optional(),
      shopId: Id.optional(),
      vendorId: Id.optional(),
      zoneId: Id.optional(),
      ...PageInput,
    }),
    result: pageOf(Order),
  },
  'orders:get': { summary: 'One order, with its timeline.', roles: 'signedIn', input: z.strictObject({ id: Id }), result: Order },
  'order:accept': { summary: 'Vendor accepts a PENDING order.', roles: VENDOR_STAFF, input: OrderAction, result: Order },
  'order:reject': {
    summary: 'Vendor rejects a PENDING order; its stock goes back.',
    roles: VENDOR_STAFF,
    input: z.strictObject({ orderId: Id, reason: Reason }),
    result: Order,
  },
  'order:prepare': { summary: 'Vendor starts preparing an ACCEPTED order.', roles: VENDOR_STAFF, input: OrderAction, result: Order },
  'order:cancel': {
    summary: 'Cancel an order: the shop while PENDING; vendor staff and admins until it leaves. Stock goes back.',
    roles: ['SHOP_OWNER', ...VENDOR_STAFF, ...ADMINS],
    input: z.strictObject({ orderId: Id, reason: Reason }),
    result: Order,
  },
  'order:reduce': {
    summary: 'Before accepting, the vendor lowers quantities it cannot supply (0 drops a line); totals are recomputed and stock returned.',
    roles: VENDOR_STAFF,
    input: z.strictObject({
      orderId: Id,
      items: z
        .array(z.strictObject({ productId: Id, quantity: z.int().min(0).max(MAX_QUANTITY) }))
        .min(1)
        .max(200),
      reason: Reason,
    }),
    result: Order,
  },
  'order:reorder': {
    summary: 'Put an old order’s items that are still available back into the cart.',
    roles: ['SHOP_OWNER'],
    input: z.strictObject({ orderId: Id }),
    result: z.object({ cart: Cart, skipped: z.array(z.object({ productId: Id, reason: z.string() })) }),
  },
});

export const orderingPushes = definePushes({
  'cart:updated': {
    summary: 'The cart changed on another of the owner’s devices.',
    to: 'user:<id>, except the socket that changed it',
    data: Cart,
    stored: false,
  },
  'order:new': { summary: 'A shop placed an order with this vendor.', to: 'vendor:<id>, admins', data: Order, stored: true },
  'order:updated': {
    summary: 'An order changed status, quantities or driver.',
    to: 'shop:<id>, vendor:<id>, driver:<id> when assigned, admins',
    data: Order,
    stored: true,
  },
});
