/** Every table's row, declared once (see db/schema.ts); `test/schema.test.ts` checks them against the migrations. */
import { col, table, type RowOf } from './schema.js';

export const addresses = table('addresses', {
  id: col.uuid,
  shop_id: col.uuid,
  label: col.text,
  line: col.text,
  zone_id: col.uuid,
  notes: col.text.null(),
  lat: col.float.null(),
  lng: col.float.null(),
  is_default: col.bool,
  created_at: col.timestamptz,
  deleted_at: col.timestamptz.null(),
});
export type AddressRow = RowOf<typeof addresses>;

export const auditLog = table('audit_log', {
  id: col.bigint,
  at: col.timestamptz,
  actor_id: col.uuid.null(),
  action: col.text,
  target_type: col.text.null(),
  target_id: col.text.null(),
  address: col.text.null(),
  details: col.jsonb(),
});
export type AuditLogRow = RowOf<typeof auditLog>;

export const cartItems = table('cart_items', {
  shop_id: col.uuid,
  product_id: col.uuid,
  quantity: col.int,
  added_price_minor: col.bigint,
  added_at: col.timestamptz,
});
export type CartItemRow = RowOf<typeof cartItems>;

export const carts = table('carts', {
  shop_id: col.uuid,
  coupon_code: col.text.null(),
  updated_at: col.timestamptz,
});
export type CartRow = RowOf<typeof carts>;

export const cashCollections = table('cash_collections', {
  id: col.uuid,
  order_id: col.uuid,
  driver_id: col.uuid,
  expected_minor: col.bigint,
  collected_minor: col.bigint,
  reason: col.text.null(),
  ledger_tx: col.bigint,
  at: col.timestamptz,
});
export type CashCollectionRow = RowOf<typeof cashCollections>;

export const cashHandovers = table('cash_handovers', {
  id: col.uuid,
  driver_id: col.uuid,
  amount_minor: col.bigint,
  received_by: col.uuid,
  vendor_id: col.uuid.null(),
  note: col.text.null(),
  ledger_tx: col.bigint,
  at: col.timestamptz,
});
export type CashHandoverRow = RowOf<typeof cashHandovers>;

export const categories = table('categories', {
  id: col.uuid,
  parent_id: col.uuid.null(),
  name_ar: col.text,
  name_en: col.text,
  slug: col.text,
  position: col.int,
  image_url: col.text.null(),
  created_at: col.timestamptz,
});
export type CategoryRow = RowOf<typeof categories>;

export const checkouts = table('checkouts', {
  id: col.uuid,
  shop_id: col.uuid,
  created_by: col.uuid,
  created_at: col.timestamptz,
  /** The first deadline of its orders still to run (server/orders/deadlines.ts); NULL: none. */
  deadline_at: col.timestamptz.null(),
});
export type CheckoutRow = RowOf<typeof checkouts>;

export const devices = table('devices', {
  token: col.text,
  user_id: col.uuid,
  platform: col.text,
  app: col.text,
  created_at: col.timestamptz,
  last_seen_at: col.timestamptz,
});
export type DeviceRow = RowOf<typeof devices>;

export const driverLocations = table('driver_locations', {
  user_id: col.uuid,
  lat: col.float,
  lng: col.float,
  at: col.timestamptz,
  forwarded_at: col.timestamptz.null(),
});
export type DriverLocationRow = RowOf<typeof driverLocations>;

export const driverStatus = table('driver_status', {
  user_id: col.uuid,
  available: col.bool,
  updated_at: col.timestamptz,
});
export type DriverStatusRow = RowOf<typeof driverStatus>;

export const idempotencyKeys = table('idempotency_keys', {
  user_id: col.uuid,
  key: col.text,
  event: col.text,
  request_hash: col.text,
  result: col.jsonb(),
  created_at: col.timestamptz,
});
export type IdempotencyKeyRow = RowOf<typeof idempotencyKeys>;

export const importBatches = table('import_batches', {
  import_id: col.uuid,
  batch: col.int,
  last_line: col.int,
  written: col.jsonb(),
});
export type ImportBatchRow = RowOf<typeof importBatches>;

export const importJobs = table('import_jobs', {
  id: col.uuid,
  vendor_id: col.uuid,
  upload_id: col.uuid,
  actor_id: col.uuid,
  mode: col.text,
  status: col.text,
  total: col.int,
  created: col.int,
  updated: col.int,
  errors: col.jsonb(),
  created_at: col.timestamptz,
  finished_at: col.timestamptz.null(),
  failure: col.text.null(),
});
export type ImportJobRow = RowOf<typeof importJobs>;

export const ledgerEntries = table('ledger_entries', {
  id: col.bigint,
  tx_id: col.bigint,
  account: col.text,
  amount: col.bigint,
});
export type LedgerEntryRow = RowOf<typeof ledgerEntries>;

export const ledgerTransactions = table('ledger_transactions', {
  id: col.bigint,
  kind: col.text,
  order_id: col.uuid.null(),
  actor_id: col.uuid.null(),
  idempotency_key: col.text.null(),
  memo: col.text.null(),
  reverses: col.bigint.null(),
  at: col.timestamptz,
});
export type LedgerTransactionRow = RowOf<typeof ledgerTransactions>;

export const loginFailures = table('login_failures', {
  id: col.bigint,
  at: col.timestamptz,
  login_key: col.text,
  address: col.text.null(),
  pending: col.bool,
});
export type LoginFailureRow = RowOf<typeof loginFailures>;

export const notificationDeliveries = table('notification_deliveries', {
  id: col.uuid,
  notification_id: col.uuid.null(),
  user_id: col.uuid.null(),
  channel: col.text,
  address: col.text.null(),
  payload: col.jsonb(),
  secret: col.bool,
  status: col.text,
  attempts: col.int,
  last_error: col.text.null(),
  job_id: col.uuid.null(),
  created_at: col.timestamptz,
  next_attempt_at: col.timestamptz.null(),
  sent_at: col.timestamptz.null(),
});
export type NotificationDeliveryRow = RowOf<typeof notificationDeliveries>;

export const notificationPreferences = table('notification_preferences', {
  user_id: col.uuid,
  group: col.text,
  channel: col.text,
  enabled: col.bool,
  updated_at: col.timestamptz,
});
export type NotificationPreferenceRow = RowOf<typeof notificationPreferences>;

export const notificationUnread = table('notification_unread', {
  user_id: col.uuid,
  unread: col.int,
});
export type NotificationUnreadRow = RowOf<typeof notificationUnread>;

export const notifications = table('notifications', {
  id: col.uuid,
  user_id: col.uuid,
  kind: col.text,
  group: col.text,
  title: col.text,
  body: col.text,
  link_type: col.text.null(),
  link_id: col.uuid.null(),
  read_at: col.timestamptz.null(),
  created_at: col.timestamptz,
});
export type NotificationRow = RowOf<typeof notifications>;

export const orderEvents = table('order_events', {
  id: col.bigint,
  order_id: col.uuid,
  status: col.text,
  at: col.timestamptz,
  actor_id: col.uuid.null(),
  reason: col.text.null(),
});
export type OrderEventRow = RowOf<typeof orderEvents>;

export const orderItems = table('order_items', {
  order_id: col.uuid,
  product_id: col.uuid,
  name_ar: col.text,
  name_en: col.text,
  category_id: col.uuid,
  unit_price_minor: col.bigint,
  ordered_quantity: col.int,
  quantity: col.int,
});
export type OrderItemRow = RowOf<typeof orderItems>;

export const orders = table('orders', {
  id: col.uuid,
  number: col.bigint,
  checkout_id: col.uuid,
  shop_id: col.uuid,
  vendor_id: col.uuid,
  zone_id: col.uuid,
  address_id: col.uuid.null(),
  status: col.text,
  subtotal_minor: col.bigint,
  discount_minor: col.bigint,
  delivery_fee_minor: col.bigint,
  total_minor: col.bigint,
  currency: col.text,
  commission_bps: col.int,
  promotion_id: col.uuid.null(),
  note: col.text.null(),
  driver_id: col.uuid.null(),
  created_at: col.timestamptz,
  updated_at: col.timestamptz,
  accepted_at: col.timestamptz.null(),
  delivery_code: col.text.null(),
  code_failures: col.int,
  eta_at: col.timestamptz.null(),
  on_the_way_at: col.timestamptz.null(),
  delivered_at: col.timestamptz.null(),
  accept_by: col.timestamptz.null(),
  expire_at: col.timestamptz.null(),
  escalated_at: col.timestamptz.null(),
});
export type OrderRow = RowOf<typeof orders>;

export const outbox = table('outbox', {
  id: col.bigint,
  seq: col.bigint.null(),
  rooms: col.texts,
  event: col.text,
  data: col.jsonb(),
  at: col.timestamptz,
});
export type OutboxRow = RowOf<typeof outbox>;

export const passwordResets = table('password_resets', {
  token_hash: col.text,
  user_id: col.uuid,
  created_at: col.timestamptz,
  expires_at: col.timestamptz,
  used_at: col.timestamptz.null(),
});
export type PasswordResetRow = RowOf<typeof passwordResets>;

export const productZones = table('product_zones', {
  product_id: col.uuid,
  zone_id: col.uuid,
});
export type ProductZoneRow = RowOf<typeof productZones>;

export const products = table('products', {
  id: col.uuid,
  vendor_id: col.uuid,
  category_id: col.uuid,
  sku: col.text,
  name_ar: col.text,
  name_en: col.text,
  description_ar: col.text,
  description_en: col.text,
  unit: col.text,
  units_per_pack: col.int,
  price_minor: col.bigint,
  compare_at_minor: col.bigint.null(),
  min_order_qty: col.int,
  stock: col.int,
  low_stock_threshold: col.int,
  featured: col.bool,
  status: col.text,
  images: col.texts,
  sold_count: col.int,
  created_at: col.timestamptz,
  updated_at: col.timestamptz,
  deleted_at: col.timestamptz.null(),
  search_text: col.text.null(),
  search_tsv: col.tsvector.null(),
  low_stock_alerted: col.bool,
  /** A copy of product_zones (sorted), kept by triggers; product_zones is the source. */
  zone_ids: col.uuids,
});
export type ProductRow = RowOf<typeof products>;

export const promotionRedemptions = table('promotion_redemptions', {
  promotion_id: col.uuid,
  order_id: col.uuid,
  shop_id: col.uuid,
  discount_minor: col.bigint,
  at: col.timestamptz,
  released_at: col.timestamptz.null(),
});
export type PromotionRedemptionRow = RowOf<typeof promotionRedemptions>;

export const promotions = table('promotions', {
  id: col.uuid,
  vendor_id: col.uuid.null(),
  name_ar: col.text,
  name_en: col.text,
  kind: col.text,
  percent_bps: col.int.null(),
  amount_minor: col.bigint.null(),
  buy_qty: col.int.null(),
  get_qty: col.int.null(),
  tiers: col.jsonb<Array<{ minQty: number; percentBps: number }>>().null(),
  min_purchase_minor: col.bigint,
  max_discount_minor: col.bigint.null(),
  starts_at: col.timestamptz,
  ends_at: col.timestamptz,
  zone_ids: col.uuids,
  product_ids: col.uuids,
  category_ids: col.uuids,
  coupon_code: col.text.null(),
  usage_limit: col.int.null(),
  used_count: col.int,
  active: col.bool,
  created_by: col.uuid.null(),
  created_at: col.timestamptz,
});
export type PromotionRow = RowOf<typeof promotions>;

export const pushSubscriptions = table('push_subscriptions', {
  endpoint: col.text,
  user_id: col.uuid,
  p256dh: col.text,
  auth: col.text,
  created_at: col.timestamptz,
});
export type PushSubscriptionRow = RowOf<typeof pushSubscriptions>;

export const refreshTokens = table('refresh_tokens', {
  token_hash: col.text,
  session_id: col.uuid,
  created_at: col.timestamptz,
  expires_at: col.timestamptz,
  used_at: col.timestamptz.null(),
});
export type RefreshTokenRow = RowOf<typeof refreshTokens>;

export const sessions = table('sessions', {
  id: col.uuid,
  user_id: col.uuid,
  app: col.text,
  created_at: col.timestamptz,
  revoked_at: col.timestamptz.null(),
  revoked_reason: col.text.null(),
});
export type SessionRow = RowOf<typeof sessions>;

/** Every lexeme of every product's search_tsv, kept by triggers, so a search spells its prefixes out (lilium_prefix_query). */
export const searchLexemes = table('search_lexemes', {
  lexeme: col.text,
});

export const settings = table('settings', {
  key: col.text,
  value: col.text,
  created_at: col.timestamptz,
});
export type SettingRow = RowOf<typeof settings>;

export const settlementOrders = table('settlement_orders', {
  settlement_id: col.uuid,
  order_id: col.uuid,
  commission_minor: col.bigint,
});
export type SettlementOrderRow = RowOf<typeof settlementOrders>;

export const settlements = table('settlements', {
  id: col.uuid,
  vendor_id: col.uuid,
  period_start: col.timestamptz,
  period_end: col.timestamptz,
  status: col.text,
  gross_minor: col.bigint,
  commission_minor: col.bigint,
  delivery_fees_minor: col.bigint,
  adjustments_minor: col.bigint,
  net_minor: col.bigint,
  created_by: col.uuid,
  created_at: col.timestamptz,
  verified_by: col.uuid.null(),
  verified_at: col.timestamptz.null(),
  paid_by: col.uuid.null(),
  paid_at: col.timestamptz.null(),
  ledger_tx: col.bigint.null(),
});
export type SettlementRow = RowOf<typeof settlements>;

export const shops = table('shops', {
  id: col.uuid,
  owner_id: col.uuid,
  name: col.text,
  zone_id: col.uuid,
  created_at: col.timestamptz,
});
export type ShopRow = RowOf<typeof shops>;

export const stockDirty = table('stock_dirty', {
  product_id: col.uuid,
  marked_at: col.timestamptz,
});
export type StockDirtyRow = RowOf<typeof stockDirty>;

export const stockHistory = table('stock_history', {
  id: col.bigint,
  product_id: col.uuid,
  delta: col.int,
  stock_after: col.int,
  reason: col.text,
  actor_id: col.uuid.null(),
  ref: col.text.null(),
  at: col.timestamptz,
});
export type StockHistoryRow = RowOf<typeof stockHistory>;

export const uploads = table('uploads', {
  id: col.uuid,
  owner_id: col.uuid,
  kind: col.text,
  path: col.text,
  mime: col.text,
  bytes: col.int,
  thumb_path: col.text.null(),
  created_at: col.timestamptz,
  attached_at: col.timestamptz.null(),
});
export type UploadRow = RowOf<typeof uploads>;

export const userZones = table('user_zones', {
  user_id: col.uuid,
  zone_id: col.uuid,
});
export type UserZoneRow = RowOf<typeof userZones>;

export const users = table('users', {
  id: col.uuid,
  role: col.text,
  name: col.text,
  email: col.text.null(),
  phone: col.text.null(),
  password_hash: col.text,
  status: col.text,
  vendor_id: col.uuid.null(),
  created_at: col.timestamptz,
  updated_at: col.timestamptz,
  deleted_at: col.timestamptz.null(),
  locale: col.text.null(),
});
export type UserRow = RowOf<typeof users>;

export const vendorCommissions = table('vendor_commissions', {
  id: col.bigint,
  vendor_id: col.uuid,
  commission_bps: col.int,
  effective_from: col.timestamptz,
  set_by: col.uuid.null(),
});
export type VendorCommissionRow = RowOf<typeof vendorCommissions>;

export const vendorZones = table('vendor_zones', {
  vendor_id: col.uuid,
  zone_id: col.uuid,
  delivery_fee_minor: col.bigint,
  min_order_minor: col.bigint,
});
export type VendorZoneRow = RowOf<typeof vendorZones>;

export const vendors = table('vendors', {
  id: col.uuid,
  name: col.text,
  status: col.text,
  commission_bps: col.int,
  created_at: col.timestamptz,
  updated_at: col.timestamptz,
  status_reason: col.text.null(),
  acceptance_window_s: col.int.null(),
});
export type VendorRow = RowOf<typeof vendors>;

export const zones = table('zones', {
  id: col.uuid,
  code: col.text,
  name_ar: col.text,
  name_en: col.text,
  active: col.bool,
  created_at: col.timestamptz,
});
export type ZoneRow = RowOf<typeof zones>;

export const tables = [
  addresses,
  auditLog,
  cartItems,
  carts,
  cashCollections,
  cashHandovers,
  categories,
  checkouts,
  devices,
  driverLocations,
  driverStatus,
  idempotencyKeys,
  importBatches,
  importJobs,
  ledgerEntries,
  ledgerTransactions,
  loginFailures,
  notificationDeliveries,
  notificationPreferences,
  notificationUnread,
  notifications,
  orderEvents,
  orderItems,
  orders,
  outbox,
  passwordResets,
  productZones,
  products,
  promotionRedemptions,
  promotions,
  pushSubscriptions,
  refreshTokens,
  searchLexemes,
  sessions,
  settings,
  settlementOrders,
  settlements,
  shops,
  stockDirty,
  stockHistory,
  uploads,
  userZones,
  users,
  vendorCommissions,
  vendorZones,
  vendors,
  zones,
];
