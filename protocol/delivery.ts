import { z } from 'zod';
import { Id, IsoTime } from './common.js';
import { WireError } from './errors.js';
import { Order } from './ordering.js';
import { defineEvents, definePushes } from './spec.js';
import { ADMINS } from './users.js';

const Reason = z.string().trim().min(1).max(500);
const STAFF_AND_ADMINS = [...ADMINS, 'COMPANY_MANAGER', 'VENDOR'] as const;
const Code = z.string().regex(/^\d{4}$/, 'four digits');

export const DeliveryStatus = z.enum(['ON_THE_WAY', 'DELIVERED', 'FAILED']);

const StatusChange = z
  .strictObject({
    orderId: Id,
    status: DeliveryStatus,
    /** Required for FAILED. */
    reason: Reason.optional(),
    /** The code the shop owner reads out; required for DELIVERED. */
    code: Code.optional(),
  })
  .refine((s) => s.status !== 'FAILED' || s.reason, { message: 'a failed delivery needs a reason', path: ['reason'] })
  .refine((s) => s.status !== 'DELIVERED' || s.code, { message: 'a delivery is confirmed with the shop’s code', path: ['code'] });

export const Driver = z.object({
  id: Id,
  name: z.string(),
  phone: z.string().nullable(),
  /** The vendor whose fleet the driver is in; null for the platform's own drivers. */
  vendorId: Id.nullable(),
  zoneIds: z.array(Id),
  available: z.boolean(),
  /** Orders assigned and not yet delivered, failed or cancelled. */
  activeOrders: z.int(),
});
export type Driver = z.infer<typeof Driver>;

export const deliveryEvents = defineEvents({
  'driver:availability': {
    summary: 'A driver goes on or off duty; only available drivers are offered for new orders.',
    roles: ['DRIVER'],
    input: z.strictObject({ available: z.boolean() }),
    result: Driver,
  },
  'drivers:available': {
    summary: 'Drivers who can take an order: available, active, working in its zone, in its vendor’s fleet or the platform’s.',
    roles: STAFF_AND_ADMINS,
    input: z.strictObject({ orderId: Id }),
    result: z.object({ items: z.array(Driver) }),
  },
  'delivery:assign': {
    summary: 'Give an ACCEPTED, PREPARING or FAILED order to a driver; changing the driver of an assigned order needs a reason.',
    roles: STAFF_AND_ADMINS,
    input: z.strictObject({ orderId: Id, driverId: Id, reason: Reason.optional() }),
    result: Order,
  },
  'delivery:status': {
    summary: 'The assigned driver reports ON_THE_WAY, DELIVERED (with the shop’s code) or FAILED (with a reason).',
    roles: ['DRIVER'],
    input: StatusChange,
    result: Order,
  },
  'delivery:bulk-status': {
    summary: 'Several status reports of one run; each applies or fails on its own, in the order given.',
    roles: ['DRIVER'],
    input: z.strictObject({ items: z.array(StatusChange).min(1).max(50) }),
    result: z.object({
      items: z.array(z.object({ orderId: Id, ok: z.boolean(), order: Order.optional(), error: WireError.optional() })),
    }),
  },
  'delivery:confirm-override': {
    summary: 'Vendor staff or admins mark an ON_THE_WAY order DELIVERED without the shop’s code, with a reason (audited).',
    roles: STAFF_AND_ADMINS,
    input: z.strictObject({ orderId: Id, reason: Reason }),
    result: Order,
  },
  'delivery:code': {
    summary: 'The shop owner’s confirmation code for an order on its way, to read out to the driver.',
    roles: ['SHOP_OWNER'],
    input: z.strictObject({ orderId: Id }),
    result: z.object({ orderId: Id, code: Code }),
  },
  'delivery:location': {
    summary: 'A driver’s position; forwarded at most once per DRIVER_LOCATION_INTERVAL_S to the shops and vendors of its orders on the way.',
    roles: ['DRIVER'],
    input: z.strictObject({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }),
    result: z.object({ forwarded: z.boolean() }),
  },
});

export const deliveryPushes = definePushes({
  'delivery:assigned': { summary: 'An order was given to this driver.', to: 'driver:<id>', data: Order, stored: true },
  'driver:location': {
    summary: 'Where the driver of an order on its way is now.',
    to: 'shop:<id>, vendor:<id> of the order',
    data: z.object({ orderId: Id, driverId: Id, lat: z.number(), lng: z.number(), at: IsoTime }),
    stored: false,
  },
});
