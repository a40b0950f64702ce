import { z } from 'zod';
import { Empty, IsoTime } from './common.js';
import { defineEvents } from './spec.js';

/** The phone apps register for mobile push (FCM); the dashboard's browsers subscribe to Web Push. */
const MOBILE = ['SHOP_OWNER', 'DRIVER'] as const;
const BROWSER = ['VENDOR', 'COMPANY_MANAGER', 'ADMIN', 'SUPER_ADMIN'] as const;

export const DevicePlatform = z.enum(['ios', 'android']);
export type DevicePlatform = z.infer<typeof DevicePlatform>;
/** Which app holds the token: the shop owners' app or the drivers'. */
export const DeviceApp = z.enum(['shop', 'driver']);
export type DeviceApp = z.infer<typeof DeviceApp>;

/** An FCM registration token as the Firebase SDK hands it out: URL-safe characters and colons. */
export const DeviceToken = z
  .string()
  .min(20)
  .max(4096)
  .regex(/^[A-Za-z0-9_:.-]+$/, 'must be an FCM registration token');

export const Device = z.object({ token: DeviceToken, platform: DevicePlatform, app: DeviceApp, createdAt: IsoTime, lastSeenAt: IsoTime });
export type Device = z.infer<typeof Device>;

/** Base64url (as `PushSubscription.toJSON()` gives it) of exactly `bytes` bytes, padded or not. */
function base64urlOf(bytes: number) {
  const chars = Math.ceil((bytes * 4) / 3);
  const pad = (3 - (bytes % 3)) % 3;
  return z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${chars}}(?:={${pad}})?$`), `must be base64url of ${bytes} bytes`);
}

/** A browser's push service URL; the server also requires https (see README, WEBPUSH_ALLOW_HTTP). */
export const PushEndpoint = z.url({ protocol: /^https?$/ }).max(2048);

export const PushSubscription = z.object({ endpoint: PushEndpoint, createdAt: IsoTime });
export type PushSubscription = z.infer<typeof PushSubscription>;

export const deviceEvents = defineEvents({
  'devices:register': {
    summary:
      "Register this phone's FCM token for mobile push (again at every start: it refreshes lastSeenAt). `app` must be the caller's (shop for shop owners, driver for drivers); a token registered by another user moves to the caller.",
    roles: MOBILE,
    input: z.strictObject({ token: DeviceToken, platform: DevicePlatform, app: DeviceApp }),
    result: Device,
  },
  'devices:unregister': {
    summary: "Stop mobile push to one of the caller's tokens (at sign-out); another user's token is NOT_FOUND.",
    roles: MOBILE,
    input: z.strictObject({ token: DeviceToken }),
    result: z.object({ token: DeviceToken }),
  },
  'push:key': {
    summary: 'The VAPID public key a browser subscribes with (`applicationServerKey`), or null when Web Push is not configured.',
    roles: BROWSER,
    input: Empty,
    result: z.object({ vapidPublicKey: z.string().nullable() }),
  },
  'push:subscribe': {
    summary:
      'Subscribe this browser to Web Push with its PushSubscription (`endpoint`, `keys.p256dh`, `keys.auth`); an endpoint subscribed by another user moves to the caller.',
    roles: BROWSER,
    input: z.strictObject({ endpoint: PushEndpoint, keys: z.strictObject({ p256dh: base64urlOf(65), auth: base64urlOf(16) }) }),
    result: PushSubscription,
  },
  'push:unsubscribe': {
    summary: "Stop Web Push to one of the caller's browsers; another user's endpoint is NOT_FOUND.",
    roles: BROWSER,
    input: z.strictObject({ endpoint: PushEndpoint }),
    result: z.object({ endpoint: PushEndpoint }),
  },
});
