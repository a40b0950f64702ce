import { sql } from '../db/sql.js';
import type { TxCtx } from './rpc/context.js';

export type AuditAction =
  | 'LOGIN'
  | 'LOGIN_FAILED'
  | 'LOCKOUT'
  | 'LOGOUT'
  | 'REFRESH_REUSE'
  | 'PASSWORD_CHANGE'
  | 'PASSWORD_RESET_REQUEST'
  | 'PASSWORD_RESET'
  | 'USER_CREATE'
  | 'USER_UPDATE'
  | 'ROLE_CHANGE'
  | 'USER_STATUS'
  | 'USER_DELETE'
  | 'USER_UNLOCK'
  | 'ZONE_CREATE'
  | 'ZONE_UPDATE'
  | 'VENDOR_CREATE'
  | 'VENDOR_UPDATE'
  | 'COMMISSION_CHANGE'
  | 'VENDOR_STATUS'
  | 'CATEGORY_DELETE'
  | 'PRODUCT_IMPORT'
  | 'PROMOTION_CREATE'
  | 'PROMOTION_STATUS'
  | 'DELIVERY_OVERRIDE'
  | 'SETTLEMENT_CREATE'
  | 'SETTLEMENT_VERIFY'
  | 'SETTLEMENT_PAID'
  | 'DELIVERY_RETRY';

/** Appends one audit row in the caller's transaction, so it exists exactly when the change does. */
export async function audit(
  ctx: Pick<TxCtx, 'query' | 'actor' | 'clientAddress'>,
  action: AuditAction,
  target: { type: string; id: string } | null,
  details: Record<string, unknown> = {},
): Promise<void> {
  await ctx.query(sql`
    INSERT INTO audit_log (actor_id, action, target_type, target_id, address, details)
    VALUES (${ctx.actor?.userId ?? null}, ${action}, ${target?.type ?? null}, ${target?.id ?? null}, ${ctx.clientAddress}, ${JSON.stringify(details)})`);
}
