import currencyCodes from 'currency-codes';
import type { Locale } from '../../protocol/common.js';
import type { NotificationGroup, NotificationKind } from '../../protocol/notifications.js';

interface Texts {
  title: string;
  body: string;
  /** The out-of-band text (email or SMS to the login) of a kind sent with `direct`: it carries the secret variables. */
  direct?: string;
}

export interface Template {
  group: NotificationGroup;
  /** Every variable its texts use, in either language. */
  vars: readonly string[];
  /** Variables of the direct text only (a set-password or reset link): rendered into that delivery, never stored. */
  secretVars?: readonly string[];
  ar: Texts;
  en: Texts;
}

/**
 * What each kind says, in both languages. A value that differs by language (a product's name) comes as two
 * variables (`productAr`, `productEn`); money and dates arrive already formatted (`formatMoney`, `formatDay`).
 */
export const TEMPLATES = {
  'order.new': {
    group: 'orders',
    vars: ['number', 'shop', 'total'],
    ar: { title: 'طلب جديد رقم {number}', body: 'طلب من {shop} بقيمة {total}.' },
    en: { title: 'New order #{number}', body: '{shop} ordered {total}.' },
  },
  'order.accepted': {
    group: 'orders',
    vars: ['number', 'vendor'],
    ar: { title: 'تم قبول الطلب رقم {number}', body: 'قبل {vendor} طلبك.' },
    en: { title: 'Order #{number} accepted', body: '{vendor} accepted your order.' },
  },
  'order.rejected': {
    group: 'orders',
    vars: ['number', 'vendor', 'reason'],
    ar: { title: 'تم رفض الطلب رقم {number}', body: 'رفض {vendor} طلبك: {reason}' },
    en: { title: 'Order #{number} rejected', body: '{vendor} rejected your order: {reason}' },
  },
  'order.reduced': {
    group: 'orders',
    vars: ['number', 'vendor', 'reason', 'total'],
    ar: { title: 'تم تعديل الطلب رقم {number}', body: 'خفّض {vendor} كميات طلبك: {reason}. المجموع الجديد {total}.' },
    en: { title: 'Order #{number} changed', body: '{vendor} reduced the quantities of your order: {reason}. New total {total}.' },
  },
  'order.cancelled': {
    group: 'orders',
    vars: ['number', 'vendor', 'reason'],
    ar: { title: 'تم إلغاء الطلب رقم {number}', body: 'أُلغي طلبك من {vendor}: {reason}' },
    en: { title: 'Order #{number} cancelled', body: 'Your order from {vendor} was cancelled: {reason}' },
  },
  'order.expired': {
    group: 'orders',
    vars: ['number', 'vendor'],
    ar: { title: 'انتهت مهلة الطلب رقم {number}', body: 'لم يقبل {vendor} طلبك في الوقت المحدد، فأُلغي.' },
    en: { title: 'Order #{number} expired', body: '{vendor} did not accept your order in time, so it was cancelled.' },
  },
  'order.on_the_way': {
    group: 'orders',
    vars: ['number', 'vendor', 'etaMin'],
    ar: { title: 'الطلب رقم {number} في الطريق', body: 'يصل طلبك من {vendor} خلال {etaMin} دقيقة تقريبًا.' },
    en: { title: 'Order #{number} is on its way', body: 'Your order from {vendor} should arrive in about {etaMin} minutes.' },
  },
  'order.delivered': {
    group: 'orders',
    vars: ['number', 'vendor', 'total'],
    ar: { title: 'تم توصيل الطلب رقم {number}', body: 'وصل طلبك من {vendor}. المجموع {total}.' },
    en: { title: 'Order #{number} delivered', body: 'Your order from {vendor} was delivered. Total {total}.' },
  },
  'order.failed': {
    group: 'orders',
    vars: ['number', 'vendor', 'reason'],
    ar: { title: 'تعذّر توصيل الطلب رقم {number}', body: 'تعذّر توصيل طلبك من {vendor}: {reason}' },
    en: { title: 'Delivery of order #{number} failed', body: 'Your order from {vendor} could not be delivered: {reason}' },
  },
  'order.overdue': {
    group: 'orders',
    vars: ['number', 'shop', 'vendor', 'minutes'],
    ar: { title: 'الطلب رقم {number} بانتظار القبول', body: 'ينتظر طلب {shop} منذ {minutes} دقيقة أن يقبله {vendor}.' },
    en: { title: 'Order #{number} is waiting', body: 'The order from {shop} has waited {minutes} minutes for {vendor} to accept it.' },
  },
  'delivery.assigned': {
    group: 'delivery',
    vars: ['number', 'vendor', 'shop'],
    ar: { title: 'توصيل جديد: الطلب رقم {number}', body: 'وصّل طلب {vendor} إلى {shop}.' },
    en: { title: 'New delivery: order #{number}', body: 'Deliver the order from {vendor} to {shop}.' },
  },
  'delivery.unassigned': {
    group: 'delivery',
    vars: ['number', 'reason'],
    ar: { title: 'أُسند الطلب رقم {number} إلى سائق آخر', body: 'لم يعد الطلب رقم {number} لك: {reason}' },
    en: { title: 'Order #{number} given to another driver', body: 'Order #{number} is no longer yours: {reason}' },
  },
  'delivery.cancelled': {
    group: 'delivery',
    vars: ['number', 'shop', 'reason'],
    ar: { title: 'أُلغي الطلب رقم {number}', body: 'لا توصل الطلب رقم {number} إلى {shop}، فقد أُلغي: {reason}' },
    en: { title: 'Order #{number} cancelled', body: 'Do not deliver order #{number} to {shop}: it was cancelled: {reason}' },
  },
  'cash.collected': {
    group: 'money',
    vars: ['number', 'driver', 'amount'],
    ar: { title: 'تحصيل نقدي للطلب رقم {number}', body: 'حصّل {driver} مبلغ {amount} عن الطلب رقم {number}.' },
    en: { title: 'Cash collected for order #{number}', body: '{driver} collected {amount} for order #{number}.' },
  },
  'settlement.created': {
    group: 'money',
    vars: ['from', 'to', 'orders', 'net'],
    ar: { title: 'تسوية جديدة {from} – {to}', body: 'أُعدّت تسوية تشمل {orders} طلبًا، صافي المستحق {net}.' },
    en: { title: 'New settlement {from} – {to}', body: 'A settlement of {orders} orders was drawn up: net payable {net}.' },
  },
  'settlement.verified': {
    group: 'money',
    vars: ['from', 'to', 'net'],
    ar: { title: 'تم التحقق من تسوية {from} – {to}', body: 'تم التحقق من التسوية (صافي المستحق {net}) وهي بانتظار الدفع.' },
    en: { title: 'Settlement {from} – {to} verified', body: 'The settlement (net payable {net}) was verified and awaits payment.' },
  },
  'settlement.paid': {
    group: 'money',
    vars: ['from', 'to', 'net'],
    ar: { title: 'تم دفع تسوية {from} – {to}', body: 'دُفعت التسوية: {net}.' },
    en: { title: 'Settlement {from} – {to} paid', body: 'The settlement was paid: {net}.' },
  },
  'stock.low': {
    group: 'stock',
    vars: ['productAr', 'productEn', 'stock', 'threshold'],
    ar: { title: 'مخزون منخفض: {productAr}', body: 'بقي من {productAr} {stock} فقط (حد التنبيه {threshold}).' },
    en: { title: 'Low stock: {productEn}', body: '{productEn} is down to {stock} (alert at {threshold}).' },
  },
  'account.created': {
    group: 'account',
    vars: ['name', 'hours'],
    secretVars: ['link'],
    ar: {
      title: 'مرحبًا بك في ليليوم',
      body: 'أهلًا {name}، حسابك جاهز.',
      direct: 'أهلًا {name}، حسابك في ليليوم جاهز. عيّن كلمة المرور خلال {hours} ساعة من هذا الرابط: {link}',
    },
    en: {
      title: 'Welcome to Lilium',
      body: 'Hello {name}, your account is ready.',
      direct: 'Hello {name}, your Lilium account is ready. Set your password within {hours} hours at {link}',
    },
  },
  'account.password_reset': {
    group: 'account',
    vars: ['minutes'],
    secretVars: ['link'],
    ar: {
      title: 'طلب إعادة تعيين كلمة المرور',
      body: 'طُلبت إعادة تعيين كلمة مرورك. إن لم تكن أنت فتجاهل ذلك، وتبقى كلمة مرورك كما هي.',
      direct: 'أعد تعيين كلمة مرور ليليوم خلال {minutes} دقيقة من هذا الرابط: {link} — إن لم تطلب ذلك فتجاهل هذه الرسالة.',
    },
    en: {
      title: 'Password reset requested',
      body: 'Someone asked to reset your password. If it was not you, ignore it: your password stays as it is.',
      direct: 'Reset your Lilium password within {minutes} minutes at {link} — if you did not ask for this, ignore this message.',
    },
  },
} as const satisfies Record<NotificationKind, Template>;

export const groupOf = (kind: NotificationKind): NotificationGroup => TEMPLATES[kind].group;

/** Fills `{name}` placeholders; a placeholder without a value is a bug in the caller, never text sent to a person. */
export function fill(text: string, vars: Readonly<Record<string, string | number>>, what: string): string {
  return text.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`${what}: no value for {${name}}`);
    return String(value);
  });
}

export interface Rendered {
  title: string;
  body: string;
}

/** A kind's stored title and body in one language. */
export function render(kind: NotificationKind, locale: Locale, vars: Readonly<Record<string, string | number>>): Rendered {
  const texts: Texts = TEMPLATES[kind][locale];
  return { title: fill(texts.title, vars, `${kind} ${locale} title`), body: fill(texts.body, vars, `${kind} ${locale} body`) };
}

/** The out-of-band text of a kind sent with `direct`, secret variables included. */
export function renderDirect(kind: NotificationKind, locale: Locale, vars: Readonly<Record<string, string | number>>): string {
  const texts: Texts = TEMPLATES[kind][locale];
  if (!texts.direct) throw new Error(`${kind} has no direct text`);
  return fill(texts.direct, vars, `${kind} ${locale} direct`);
}

/**
 * Money as people read it: the major unit by the currency's ISO 4217 minor unit (IQD has 3 decimals, its fils),
 * decimals shown only when there are any, digits grouped, and the code, alike in both languages
 * (`15,000 IQD`, `-12.50 USD`). A code ISO does not know is shown in its minor unit.
 */
export function formatMoney(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  const whole = minor % 10 ** digits === 0;
  const major = formatterOf(whole ? 0 : digits).format(minor / 10 ** digits);
  return `${major} ${currency}`;
}

// Made once each: an Intl.NumberFormat costs far more to build than to use, and every new order's notification formats a total.
const digitsOf = new Map<string, number>();
const formatters = new Map<number, Intl.NumberFormat>();

function minorDigits(currency: string): number {
  let digits = digitsOf.get(currency);
  if (digits === undefined) digitsOf.set(currency, (digits = currencyCodes.code(currency)?.digits ?? 0));
  return digits;
}

function formatterOf(shown: number): Intl.NumberFormat {
  let f = formatters.get(shown);
  if (!f) formatters.set(shown, (f = new Intl.NumberFormat('en', { minimumFractionDigits: shown, maximumFractionDigits: shown })));
  return f;
}

/** A calendar day (UTC) as `2026-11-25`, read alike in both languages. */
export const formatDay = (d: Date | string): string => new Date(d).toISOString().slice(0, 10);
