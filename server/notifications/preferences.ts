import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Role } from '../../protocol/common.js';
import { NotificationChannel, NotificationGroup, type NotificationPreferences } from '../../protocol/notifications.js';
import { sql } from '../../db/sql.js';
import type { NotificationPreferenceRow } from '../../db/tables.js';
import { AppError } from '../errors.js';
import { actorOf, type Ctx } from '../rpc/context.js';

type Channel = NotificationChannel;
type Group = NotificationGroup;
type Switches = Record<Channel, boolean>;
/** What a user chose, group by group; anything left out follows their role's default. */
export type StoredPreferences = Partial<Record<Group, Partial<Switches>>>;

const CHANNELS = NotificationChannel.options;
const GROUPS = NotificationGroup.options;
const OFF: Switches = { push: false, email: false, sms: false };
const PUSH: Switches = { push: true, email: false, sms: false };
/** Account and security messages reach a person whatever they chose. */
const ALWAYS: Switches = { push: true, email: true, sms: true };

/**
 * Each role hears by push what it acts on (staff new orders and low stock, shops their orders, drivers their
 * deliveries, admins overdue orders), and managers also get money by email: settlements are records to keep.
 * SMS costs money per message, so it is off unless chosen.
 */
export const DEFAULT_PREFERENCES: Record<Role, Omit<NotificationPreferences, 'account'>> = {
  SUPER_ADMIN: { orders: PUSH, delivery: OFF, money: OFF, stock: OFF },
  ADMIN: { orders: PUSH, delivery: OFF, money: OFF, stock: OFF },
  COMPANY_MANAGER: { orders: PUSH, delivery: OFF, money: { push: true, email: true, sms: false }, stock: PUSH },
  VENDOR: { orders: PUSH, delivery: OFF, money: OFF, stock: PUSH },
  SHOP_OWNER: { orders: PUSH, delivery: OFF, money: OFF, stock: OFF },
  DRIVER: { orders: OFF, delivery: PUSH, money: OFF, stock: OFF },
};

/** The preferences in force: the role's defaults, overridden by what the user chose; `account` always all on. */
export function preferencesOf(stored: StoredPreferences, role: Role): NotificationPreferences {
  const defaults = DEFAULT_PREFERENCES[role];
  const of = (g: Exclude<Group, 'account'>): Switches => ({ ...defaults[g], ...stored[g] });
  return { orders: of('orders'), delivery: of('delivery'), money: of('money'), stock: of('stock'), account: ALWAYS };
}

/** The channels, besides the app itself, that carry a notification of `group` to a user of `role` with these choices. */
export function channelsFor(stored: StoredPreferences, group: Group, role: Role): Channel[] {
  const switches = preferencesOf(stored, role)[group];
  return CHANNELS.filter((c) => switches[c]);
}

async function storedOf(ctx: Ctx, userId: string): Promise<StoredPreferences> {
  const rows = await ctx.query<Pick<NotificationPreferenceRow, 'group' | 'channel' | 'enabled'>>(
    sql`SELECT "group", channel, enabled FROM notification_preferences WHERE user_id = ${userId}`,
  );
  const stored: StoredPreferences = {};
  // The table's checks keep group and channel within the protocol's sets.
  for (const r of rows) (stored[r.group as Group] ??= {})[r.channel as Channel] = r.enabled;
  return stored;
}

export async function getPreferences(ctx: Ctx): Promise<ResultOf<'notifications:preferences:get'>> {
  const actor = actorOf(ctx);
  return preferencesOf(await storedOf(ctx, actor.userId), actor.role);
}

export async function setPreferences(ctx: Ctx, input: ParsedInputOf<'notifications:preferences:set'>): Promise<ResultOf<'notifications:preferences:set'>> {
  const actor = actorOf(ctx);
  const off = CHANNELS.filter((c) => input.account?.[c] === false);
  if (off.length) throw new AppError('BAD_REQUEST', 'account and security messages cannot be turned off', { group: 'account', channels: off });
  const changes = GROUPS.filter((g) => g !== 'account').flatMap((g) =>
    CHANNELS.flatMap((c) => {
      const enabled = input[g]?.[c];
      return enabled === undefined ? [] : [{ group: g, channel: c, enabled }];
    }),
  );
  return ctx.tx(async (ctx) => {
    if (changes.length) {
      await ctx.query(sql`
        INSERT INTO notification_preferences (user_id, "group", channel, enabled)
        SELECT ${actor.userId}, c.g, c.ch, c.enabled
          FROM unnest(${changes.map((c) => c.group)}::text[], ${changes.map((c) => c.channel)}::text[], ${changes.map((c) => c.enabled)}::bool[]) AS c(g, ch, enabled)
        ON CONFLICT (user_id, "group", channel) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()`);
    }
    return preferencesOf(await storedOf(ctx, actor.userId), actor.role);
  });
}
