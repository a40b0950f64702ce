import type { Locale, Role } from '../../protocol/common.js';
import type { NotificationChannel, NotificationKind, NotificationLink } from '../../protocol/notifications.js';
import { sql, type Sql } from '../../db/sql.js';
import type { NotificationRow, UserRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import type { Config } from '../config.js';
import { rooms } from '../auth/actor.js';
import { holdPushes } from '../outbox/outbox.js';
import type { TxCtx } from '../rpc/context.js';
import { queueDeliveries, type DeliveryInput } from './deliveries.js';
import { countAtCommit, toNotification } from './notifications.service.js';
import { channelsFor } from './preferences.js';
import { groupOf, render, renderDirect, type Rendered } from './templates.js';

export interface NotifyInput {
  kind: NotificationKind;
  /** Recipients (deduplicated inside). */
  userIds: string[];
  /** Template variables shown in the app. */
  vars: Record<string, string | number>;
  link?: NotificationLink | null;
  /**
   * Out-of-band only (reset/set-password): one delivery to this address on this channel, whatever the
   * preferences; `secretVars` are rendered into that delivery only and never stored in the notification.
   * `secretVars.link`, when given, is also the delivery's url.
   */
  direct?: { channel: 'email' | 'sms'; address: string; secretVars: Record<string, string> };
}

/** A recipient as the notification was written for them. */
type Written = Pick<NotificationRow, 'id' | 'user_id' | 'title' | 'body' | 'created_at'> &
  Pick<UserRow, 'email' | 'phone'> & {
    role: Role;
    locale: Locale;
    unread: number;
    /** Whether they have a phone or browser registered for push. */
    pushable: boolean;
    /** Their own choices for this kind's group. */
    chosen: Partial<Record<NotificationChannel, boolean>>;
  };

const urlOf = (config: Config, link: NotificationLink | null): string | null => (link ? `${config.publicUrl}/${link.type}s/${link.id}` : null);

/** The deliveries a notification makes: the direct one alone, or one per channel each recipient's preferences enable and can be reached on. */
export function deliveriesOf(config: Config, input: NotifyInput, written: Written[]): DeliveryInput[] {
  const link = input.link ?? null;
  const message = (w: Written, body: string, url: string | null) => ({
    kind: input.kind,
    locale: w.locale,
    title: w.title,
    body,
    url,
    data: { kind: input.kind, notificationId: w.id, ...(link ? { linkType: link.type, linkId: link.id } : {}) },
  });
  if (input.direct) {
    const { direct } = input;
    return written.map((w) => ({
      notificationId: w.id,
      userId: w.user_id,
      channel: direct.channel,
      address: direct.address,
      message: message(w, renderDirect(input.kind, w.locale, { ...input.vars, ...direct.secretVars }), direct.secretVars.link ?? null),
      secret: true,
    }));
  }
  const addressOf: Record<NotificationChannel, (w: Written) => string | null> = { push: () => null, email: (w) => w.email, sms: (w) => w.phone };
  return written.flatMap((w) =>
    channelsFor({ [groupOf(input.kind)]: w.chosen }, groupOf(input.kind), w.role)
      // Push needs a phone or browser registered, as email needs an address.
      .filter((channel) => (channel === 'push' ? w.pushable : addressOf[channel](w) !== null))
      .map((channel) => ({
        notificationId: w.id,
        userId: w.user_id,
        channel,
        address: addressOf[channel](w),
        message: message(w, w.body, urlOf(config, link)),
      })),
  );
}

/**
 * In the caller's transaction: one stored notification per recipient in their locale, a delivery per channel
 * their preferences enable (through queueDeliveries), and `notification:new` (stored push) to each recipient's
 * user room. A rollback leaves nothing and sends nothing. Whoever caused the event is not told of it (a shop
 * cancelling its own order), except by a direct message; accounts that are disabled or deleted are told nothing.
 */
export async function notify(ctx: TxCtx, input: NotifyInput): Promise<void> {
  await notifyMany(ctx, [input]);
}

/**
 * Several notifications at once (see notify), in one statement whatever their number: the recipients' locales,
 * preferences and unread counts read and the notifications written; the pushes, the delivery rows and their one job
 * are held for the transaction's last statement before COMMIT (Tx.hold).
 */
export async function notifyMany(ctx: TxCtx, inputs: NotifyInput[]): Promise<void> {
  const cause = ctx.actor?.userId ?? null;
  const wanted = inputs.map((input) => [...new Set(input.userIds)].filter((id) => input.direct || id !== cause));
  const k = inputs.map((_, i) => i).filter((i) => wanted[i]!.length > 0);
  if (k.length === 0) return;
  const rendered = inputs.map((input) => [render(input.kind, 'ar', input.vars), render(input.kind, 'en', input.vars)] as [Rendered, Rendered]);
  const col = <T>(f: (i: number) => T) => k.map(f);
  const { defaultLocale } = ctx.deps.config;
  // Each recipient's unread count: their kept count, what this transaction counted for them before (the kept count
  // takes those in at COMMIT, see countAtCommit), and the rank of each among their new ones here.
  const rows = await ctx.query<Written & { k: number }>(
    sql`
    WITH want AS (
      SELECT * FROM unnest(${k.flatMap((i) => wanted[i]!.map(() => i))}::int[], ${k.flatMap((i) => wanted[i]!)}::uuid[]) AS w(k, user_id)
    ), n AS (
      SELECT * FROM unnest(${k}::int[], ${col((i) => inputs[i]!.kind)}::text[], ${col((i) => groupOf(inputs[i]!.kind))}::text[],
                           ${col((i) => rendered[i]![0].title)}::text[], ${col((i) => rendered[i]![0].body)}::text[],
                           ${col((i) => rendered[i]![1].title)}::text[], ${col((i) => rendered[i]![1].body)}::text[],
                           ${col((i) => inputs[i]!.link?.type ?? null)}::text[], ${col((i) => inputs[i]!.link?.id ?? null)}::uuid[])
             AS n(k, kind, "group", ar_title, ar_body, en_title, en_body, link_type, link_id)
    ), r AS MATERIALIZED (
      SELECT gen_random_uuid() AS nid, w.k, u.id, u.role, u.email, u.phone, coalesce(u.locale, ${defaultLocale}) AS locale
        FROM want w JOIN users u ON u.id = w.user_id WHERE u.status = 'ACTIVE' AND u.deleted_at IS NULL
    ), ins AS (
      INSERT INTO notifications (id, user_id, kind, "group", title, body, link_type, link_id)
      SELECT r.nid, r.id, n.kind, n."group", CASE r.locale WHEN 'ar' THEN n.ar_title ELSE n.en_title END,
             CASE r.locale WHEN 'ar' THEN n.ar_body ELSE n.en_body END, n.link_type, n.link_id
        FROM r JOIN n ON n.k = r.k ORDER BY r.k, r.id
      RETURNING id, user_id, "group", title, body, created_at
    )
    SELECT ins.id, ins.user_id, ins.title, ins.body, ins.created_at, r.k, r.role, r.email, r.phone, r.locale,
           coalesce((SELECT c.unread FROM notification_unread c WHERE c.user_id = ins.user_id), 0)
             + (row_number() OVER (PARTITION BY ins.user_id ORDER BY r.k))::int AS unread,
           coalesce((SELECT jsonb_object_agg(p.channel, p.enabled) FROM notification_preferences p WHERE p.user_id = ins.user_id AND p."group" = ins."group"), '{}') AS chosen,
           EXISTS (SELECT 1 FROM devices d WHERE d.user_id = ins.user_id) OR EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = ins.user_id) AS pushable
      FROM ins JOIN r ON r.nid = ins.id ORDER BY r.k, r.id`.prepared(),
  );
  const writtenOf = (i: number) => rows.filter((w) => w.k === i);
  if (rows.length === 0) return;
  const before = countAtCommit(
    ctx,
    rows.map((w) => w.user_id),
  );
  holdPushes(
    ctx,
    'notification:new',
    rows.map((w) => {
      const input = inputs[w.k]!;
      const link = input.link ?? null;
      return {
        rooms: [rooms.user(w.user_id)],
        data: {
          notification: toNotification({
            ...w,
            kind: input.kind,
            group: groupOf(input.kind),
            link_type: link?.type ?? null,
            link_id: link?.id ?? null,
            read_at: null,
          }),
          unread: w.unread + (before.get(w.user_id) ?? 0),
        },
      };
    }),
  );
  await queueDeliveries(
    ctx,
    k.flatMap((i) => deliveriesOf(ctx.deps.config, inputs[i]!, writtenOf(i))),
  );
}

const ACTIVE = sql`u.status = 'ACTIVE' AND u.deleted_at IS NULL`;
const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id);

/** The ids of a vendor's VENDOR staff and COMPANY_MANAGERs, as an array expression: `vendorId` is a column or a value. */
export const vendorStaffIds = (vendorId: Sql) =>
  sql`ARRAY(SELECT u.id FROM users u WHERE u.vendor_id = ${vendorId} AND u.role IN ('VENDOR', 'COMPANY_MANAGER') AND ${ACTIVE} ORDER BY u.id)`;

/** A vendor's VENDOR staff and COMPANY_MANAGERs. */
export async function vendorStaff(ctx: Reader, vendorId: string): Promise<string[]> {
  const [row] = await ctx.query<{ ids: string[] }>(sql`SELECT ${vendorStaffIds(sql`${vendorId}::uuid`)} AS ids`);
  return row!.ids;
}

/** A vendor's COMPANY_MANAGERs. */
export async function vendorManagers(ctx: Reader, vendorId: string): Promise<string[]> {
  return ids(await ctx.query(sql`SELECT u.id FROM users u WHERE u.vendor_id = ${vendorId} AND u.role = 'COMPANY_MANAGER' AND ${ACTIVE}`.prepared()));
}

/** Admins who reach a zone: SUPER_ADMINs, ADMINs limited to no zone, and ADMINs limited to this one among others (the deadlines' escalation). */
export async function zoneAdmins(ctx: Reader, zoneId: string): Promise<string[]> {
  return ids(
    await ctx.query(sql`
      SELECT u.id FROM users u WHERE ${ACTIVE} AND (u.role = 'SUPER_ADMIN' OR (u.role = 'ADMIN' AND (
        NOT EXISTS (SELECT 1 FROM user_zones uz WHERE uz.user_id = u.id) OR EXISTS (SELECT 1 FROM user_zones uz WHERE uz.user_id = u.id AND uz.zone_id = ${zoneId}))))`),
  );
}
