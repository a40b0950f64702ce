import { z } from 'zod';

export const Id = z.uuid();
export type Id = z.infer<typeof Id>;

/** Money in the minor unit of the configured currency: never a float, never unsafe. */
export const Minor = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
export type Minor = z.infer<typeof Minor>;

export const IdempotencyKey = z.string().min(8).max(128);

export const IsoTime = z.iso.datetime({ offset: true });

export const L10n = z.strictObject({ ar: z.string().min(1).max(500), en: z.string().min(1).max(500) });
export type L10n = z.infer<typeof L10n>;

export const Empty = z.strictObject({});
export type Empty = z.infer<typeof Empty>;

export const PageInput = {
  limit: z.int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
};

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const Roles = ['SUPER_ADMIN', 'ADMIN', 'COMPANY_MANAGER', 'VENDOR', 'SHOP_OWNER', 'DRIVER'] as const;
export const Role = z.enum(Roles);
export type Role = z.infer<typeof Role>;

export const App = z.enum(['mobile', 'dashboard', 'driver']);
export type App = z.infer<typeof App>;
