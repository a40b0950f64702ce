import { z } from 'zod';
import { Id, IsoTime, Locale, PageInput, Role, pageOf } from './common.js';
import { defineEvents } from './spec.js';

export const UserStatus = z.enum(['ACTIVE', 'DISABLED']);
export type UserStatus = z.infer<typeof UserStatus>;

export const User = z.object({
  id: Id,
  role: Role,
  name: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  status: UserStatus,
  vendorId: Id.nullable(),
  shopId: Id.nullable(),
  /** The shop's zone for a shop owner; the zones served for drivers; the zones an admin is limited to (none: all). */
  zoneIds: z.array(Id),
  /** What the account is told in: its own choice, else the deployment's DEFAULT_LOCALE. */
  locale: Locale,
  createdAt: IsoTime,
});
export type User = z.infer<typeof User>;

export const ADMINS = ['SUPER_ADMIN', 'ADMIN'] as const;
const USER_MANAGERS = ['SUPER_ADMIN', 'ADMIN', 'COMPANY_MANAGER'] as const;

const Name = z.string().trim().min(1).max(200);
/** Stored trimmed and lowercase, so one address is one login however it is typed. */
export const Email = z.string().trim().toLowerCase().check(z.email()).max(200);
/** E.164 (`+` then country code and number, digits only), so a phone can never look like an email. */
export const Phone = z.e164('an E.164 number like +9647701234567');
const ById = z.strictObject({ id: Id });

export const usersEvents = defineEvents({
  'users:create': {
    summary:
      'Create an account. SUPER_ADMIN creates any role; ADMIN creates every role but admins (a zone-limited admin only within its zones); COMPANY_MANAGER creates VENDOR staff of its own vendor. A SHOP_OWNER needs `shop`; vendor staff need `vendorId`. Without `password` the new user is sent a one-time link to set their own (by email to an email login, else by SMS).',
    roles: USER_MANAGERS,
    input: z
      .strictObject({
        role: Role,
        name: Name,
        email: Email.optional(),
        phone: Phone.optional(),
        password: z.string().min(10, 'at least 10 characters').max(200).optional(),
        locale: Locale.optional(),
        zoneIds: z.array(Id).max(50).optional(),
        vendorId: Id.optional(),
        shop: z.strictObject({ name: Name, zoneId: Id }).optional(),
      })
      .refine((v) => v.email || v.phone, { message: 'email or phone is required', path: ['email'] }),
    result: User,
  },
  'users:list': {
    summary: 'Accounts the caller may manage, newest first: search by name, email or phone; filter by role, zone, vendor or status.',
    roles: USER_MANAGERS,
    input: z.strictObject({
      q: z.string().trim().min(1).max(100).optional(),
      role: Role.optional(),
      zoneId: Id.optional(),
      vendorId: Id.optional(),
      status: UserStatus.optional(),
      ...PageInput,
    }),
    result: pageOf(User),
  },
  'users:get': { summary: 'One account the caller may manage.', roles: USER_MANAGERS, input: ById, result: User },
  'users:update': {
    summary: 'Change an account: name, email, phone, role, zones, vendor or password. A role or password change disconnects its sockets on every node.',
    roles: USER_MANAGERS,
    input: z
      .strictObject({
        id: Id,
        name: Name.optional(),
        email: Email.nullable().optional(),
        phone: Phone.nullable().optional(),
        role: Role.optional(),
        zoneIds: z.array(Id).max(50).optional(),
        vendorId: Id.nullable().optional(),
        password: z.string().min(10, 'at least 10 characters').max(200).optional(),
      })
      .refine((v) => Object.keys(v).length > 1, 'nothing to change'),
    result: User,
  },
  'users:set-status': {
    summary: 'Enable or disable an account; disabling ends its sessions and disconnects it on every node.',
    roles: USER_MANAGERS,
    input: z.strictObject({ id: Id, status: UserStatus, reason: z.string().trim().min(1).max(500).optional() }),
    result: User,
  },
  'users:delete': {
    summary: 'Soft-delete an account: it can no longer sign in and leaves lists; its history stays.',
    roles: USER_MANAGERS,
    input: ById,
    result: z.object({ id: Id }),
  },
  'users:unlock': {
    summary: 'Clear the failed-login lockout of an account.',
    roles: ADMINS,
    input: ById,
    result: z.object({ id: Id }),
  },
});
