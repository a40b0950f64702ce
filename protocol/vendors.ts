import { z } from 'zod';
import { Id, IsoTime, Minor, PageInput, Price, pageOf } from './common.js';
import { defineEvents, definePushes } from './spec.js';
import { ADMINS } from './users.js';

export const VendorStatus = z.enum(['PENDING', 'APPROVED', 'REJECTED', 'SUSPENDED']);
export type VendorStatus = z.infer<typeof VendorStatus>;

export const VendorZone = z.object({ zoneId: Id, deliveryFee: Minor, minOrderValue: Minor });

export const Vendor = z.object({
  id: Id,
  name: z.string(),
  status: VendorStatus,
  statusReason: z.string().nullable(),
  /** The rate in force now; orders keep the rate they were placed at. */
  commissionBps: z.int().min(0).max(10_000),
  commissionHistory: z.array(z.object({ commissionBps: z.int(), effectiveFrom: IsoTime })),
  zones: z.array(VendorZone),
  /** Seconds a new order may wait for acceptance before the vendor's managers and the zone's admins are told. */
  acceptanceWindowS: z.int(),
  /** True when the window is the deployment's default rather than the vendor's own. */
  acceptanceWindowDefault: z.boolean(),
  createdAt: IsoTime,
});
export type Vendor = z.infer<typeof Vendor>;

const Zones = z
  .array(z.strictObject({ zoneId: Id, deliveryFee: Price, minOrderValue: Price }))
  .max(100)
  .refine((zs) => new Set(zs.map((z) => z.zoneId)).size === zs.length, 'each zone once');
const Bps = z.int().min(0).max(10_000);
const STAFF = ['SUPER_ADMIN', 'ADMIN', 'COMPANY_MANAGER', 'VENDOR'] as const;

export const vendorEvents = defineEvents({
  'vendors:create': {
    summary: 'Onboard a vendor; it starts PENDING and sells nothing until approved.',
    roles: ADMINS,
    input: z.strictObject({ name: z.string().trim().min(1).max(200), commissionBps: Bps, zones: Zones }),
    result: Vendor,
  },
  'vendors:list': {
    summary: 'Vendors, by name; filter by status or zone served.',
    roles: ADMINS,
    input: z.strictObject({ q: z.string().trim().min(1).max(100).optional(), status: VendorStatus.optional(), zoneId: Id.optional(), ...PageInput }),
    result: pageOf(Vendor),
  },
  'vendors:get': { summary: 'One vendor (staff and managers: their own).', roles: STAFF, input: z.strictObject({ id: Id }), result: Vendor },
  'vendors:update': {
    summary:
      'Rename a vendor or change the zones it serves (managers: their own); admins also change the commission, which applies to orders placed from now on.',
    roles: ['SUPER_ADMIN', 'ADMIN', 'COMPANY_MANAGER'],
    input: z.strictObject({
      id: Id,
      name: z.string().trim().min(1).max(200).optional(),
      commissionBps: Bps.optional(),
      zones: Zones.optional(),
      /** Within the deployment's bounds (BAD_REQUEST { field, min, max } outside them); null returns to the default. */
      acceptanceWindowS: z.int().min(1).max(86_400).nullable().optional(),
    }),
    result: Vendor,
  },
  'vendors:set-status': {
    summary:
      'Approve or reject a PENDING vendor, suspend an APPROVED one, reactivate a SUSPENDED or REJECTED one; with a reason, audited. Suspension hides its products at once.',
    roles: ADMINS,
    input: z.strictObject({ id: Id, status: z.enum(['APPROVED', 'REJECTED', 'SUSPENDED']), reason: z.string().trim().min(1).max(500) }),
    result: Vendor,
  },
  'vendors:stats': {
    summary:
      'A vendor’s orders placed in [from, to): count by status, revenue (delivered orders’ totals), ordered value (all but rejected, cancelled and expired), average seconds to accept, share rejected, share expired.',
    roles: ['SUPER_ADMIN', 'ADMIN', 'COMPANY_MANAGER'],
    input: z
      .strictObject({ id: Id, from: IsoTime, to: IsoTime })
      .refine((i) => new Date(i.to) > new Date(i.from), { message: 'to must be after from', path: ['to'] }),
    result: z.object({
      vendorId: Id,
      from: IsoTime,
      to: IsoTime,
      orders: z.int(),
      byStatus: z.record(z.string(), z.int()),
      revenue: Minor,
      orderedValue: Minor,
      averageAcceptSeconds: z.number().nullable(),
      /** Rejected among those the vendor decided on (accepted or rejected); null before any decision. */
      rejectionRate: z.number().nullable(),
      /** Orders that expired unaccepted among all placed in the range; null when none were placed. */
      expiryRate: z.number().nullable(),
      /** Orders left PENDING past their acceptance window (escalated), among all placed; null when none were placed. */
      overdueRate: z.number().nullable(),
    }),
  },
});

export const vendorPushes = definePushes({
  'vendor:status': {
    summary: 'A vendor was approved, rejected, suspended or reactivated: its products appear or vanish.',
    to: 'zone:<id> of the zones it serves, vendor:<id>, admins',
    data: z.object({ vendorId: Id, status: VendorStatus, reason: z.string().nullable() }),
    stored: true,
  },
});
