import type { Locale, Role } from '../../protocol/common.js';
import type { NotificationChannel, NotificationKind, NotificationLink } from '../../protocol/notifications.js';
import { sql } from '../../db/sql.js';
import type { NotificationRow, UserRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import type { Config } from '../config.js';
import { rooms } from '../auth/actor.js';
import { tellEach } from '../outbox/outbox.js';
import type { TxCtx } from '../rpc/context.js';
import { enqueueDelivery, type DeliveryInput } from './deliveries.js';
import { toNotification } from './notifications.service.js';
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
      .filter((channel) => channel === 'push' || addressOf[channel](w) !== null)
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
 * their preferences enable (through enqueueDelivery), and `notification:new` (stored push) to each recipient's
 * user room. A rollback leaves nothing and sends nothing. Whoever caused the event is not told of it (a shop
 * cancelling its own order), except by a direct message; accounts that are disabled or deleted are told nothing.
 * The recipients' locales, preferences and unread counts are read and the notifications written in one statement.
 */
export async function notify(ctx: TxCtx, input: NotifyInput): Promise<void> {
  const cause = input.direct ? null : (ctx.actor?.userId ?? null);
  const userIds = [...new Set(input.userIds)].filter((id) => id !== cause);
  if (userIds.length === 0) return;
  const group = groupOf(input.kind);
  const link = input.link ?? null;
  const [ar, en]: Rendered[] = [render(input.kind, 'ar', input.vars), render(input.kind, 'en', input.vars)];
  const { defaultLocale } = ctx.deps.config;
  // The count is read in the statement that inserts, which does not see its own row: hence + 1.
  const written = await ctx.query<Written>(sql`
    WITH r AS (
      SELECT u.id, u.role, u.email, u.phone, coalesce(u.locale, ${defaultLocale}) AS locale FROM users u
       WHERE u.id = ANY(${userIds}::uuid[]) AND u.status = 'ACTIVE' AND u.deleted_at IS NULL
    ), ins AS (
      INSERT INTO notifications (user_id, kind, "group", title, body, link_type, link_id)
      SELECT r.id, ${input.kind}, ${group}, CASE r.locale WHEN 'ar' THEN ${ar!.title} ELSE ${en!.title} END,
             CASE r.locale WHEN 'ar' THEN ${ar!.body} ELSE ${en!.body} END, ${link?.type ?? null}, ${link?.id ?? null}::uuid
        FROM r ORDER BY r.id
      RETURNING id, user_id, title, body, created_at
    )
    SELECT ins.*, r.role, r.email, r.phone, r.locale,
           (SELECT count(*)::int FROM notifications n WHERE n.user_id = ins.user_id AND n.read_at IS NULL) + 1 AS unread,
           coalesce((SELECT jsonb_object_agg(p.channel, p.enabled) FROM notification_preferences p WHERE p.user_id = ins.user_id AND p."group" = ${group}), '{}') AS chosen
      FROM ins JOIN r ON r.id = ins.user_id`);
  await tellEach(
    ctx,
    'notification:new',
    written.map((w) => ({
      room: rooms.user(w.user_id),
      data: {
        notification: toNotification({ ...w, kind: input.kind, group, link_type: link?.type ?? null, link_id: link?.id ?? null, read_at: null }),
        unread: w.unread,
      },
    })),
  );
  for (const d of deliveriesOf(ctx.deps.config, input, written)) await enqueueDelivery(ctx, d);
}

const ACTIVE = sql`u.status = 'ACTIVE' AND u.deleted_at IS NULL`;
const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id);

/** A vendor's VENDOR staff and COMPANY_MANAGERs. */
export async function vendorStaff(ctx: Reader, vendorId: string): Promise<string[]> {
  return ids(await ctx.query(sql`SELECT u.id FROM users u WHERE u.vendor_id = ${vendorId} AND u.role IN ('VENDOR', 'COMPANY_MANAGER') AND ${ACTIVE}`));
}

/** A vendor's COMPANY_MANAGERs. */
export async function vendorManagers(ctx: Reader, vendorId: string): Promise<string[]> {
  return ids(await ctx.query(sql`SELECT u.id FROM users u WHERE u.vendor_id = ${vendorId} AND u.role = 'COMPANY_MANAGER' AND ${ACTIVE}`));
}

/** Admins who reach a zone: SUPER_ADMINs, ADMINs limited to no zone, and ADMINs limited to this one among others (the deadlines' escalation). */
export async function zoneAdmins(ctx: Reader, zoneId: string): Promise<string[]> {
  return ids(
    await ctx.query(sql`
      SELECT u.id FROM users u WHERE ${ACTIVE} AND (u.role = 'SUPER_ADMIN' OR (u.role = 'ADMIN' AND (
        NOT EXISTS (SELECT 1 FROM user_zones uz WHERE uz.user_id = u.id) OR EXISTS (SELECT 1 FROM user_zones uz WHERE uz.user_id = u.id AND uz.zone_id = ${zoneId}))))`),
  );
}
