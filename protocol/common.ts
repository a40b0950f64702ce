import { z } from 'zod';

export const Id = z.uuid();
export type Id = z.infer<typeof Id>;

/** Money in the minor unit of the configured currency: never a float, never unsafe. */
export const Minor = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
export type Minor = z.infer<typeof Minor>;

/**
 * Limits that keep every sum the server makes a safe integer. A price, compare-at price, delivery fee, minimum
 * order or discount is at most MAX_PRICE_MINOR and a line at most MAX_QUANTITY units, so a line fits (≤ 10^15);
 * a cart, and so an order, totals at most MAX_ORDER_MINOR (checked when the cart is priced); a cash amount is at
 * most MAX_CASH_MINOR. Ledger sums stay safe up to hundreds of maximal orders per account; beyond that a report
 * answers AMOUNT_OUT_OF_RANGE rather than a wrong number.
 */
export const MAX_PRICE_MINOR = 10_000_000_000;
export const MAX_QUANTITY = 100_000;
export const MAX_ORDER_MINOR = 10_000_000_000_000;
export const MAX_CASH_MINOR = 2 * MAX_ORDER_MINOR;

/** A price, fee, minimum or discount set by a client. */
export const Price = Minor.max(MAX_PRICE_MINOR);
/** An order-level threshold or cap (a promotion's minimum purchase or largest discount). */
export const OrderMinor = Minor.max(MAX_ORDER_MINOR);
/** Cash counted by hand: collected or handed over. */
export const CashMinor = Minor.max(MAX_CASH_MINOR);
export const Quantity = z.int().min(1).max(MAX_QUANTITY);

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

/** The language a person reads: what they are told is rendered in it. */
export const Locale = z.enum(['ar', 'en']);
export type Locale = z.infer<typeof Locale>;

export const App = z.enum(['mobile', 'dashboard', 'driver']);
export type App = z.infer<typeof App>;
