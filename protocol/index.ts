import type { z } from 'zod';
import { addressEvents } from './addresses.js';
import { authEvents, authPushes } from './auth.js';
import { catalogEvents, catalogPushes } from './catalog.js';
import { deliveryEvents, deliveryPushes } from './delivery.js';
import { deviceEvents } from './devices.js';
import { messageDeliveryEvents } from './deliveries.js';
import { feedEvents } from './feed.js';
import { financeEvents, financePushes } from './finance.js';
import { notificationEvents, notificationPushes } from './notifications.js';
import { orderingEvents, orderingPushes } from './ordering.js';
import { promotionEvents } from './promotions.js';
import type { Ack } from './errors.js';
import type { EventSpec, PushSpec } from './spec.js';
import { systemPushes } from './system.js';
import { usersEvents } from './users.js';
import { vendorEvents, vendorPushes } from './vendors.js';
import { zoneEvents } from './zones.js';

export * from './version.js';
export * from './common.js';
export * from './errors.js';
export * from './spec.js';
export * from './users.js';
export * from './auth.js';
export * from './zones.js';
export * from './addresses.js';
export * from './feed.js';
export * from './vendors.js';
export * from './catalog.js';
export * from './ordering.js';
export * from './promotions.js';
export * from './delivery.js';
export * from './finance.js';
export * from './notifications.js';
export * from './devices.js';
export * from './deliveries.js';

/** Every client → server event. Adding a domain: spread its map here. */
export const events = {
  ...authEvents,
  ...usersEvents,
  ...zoneEvents,
  ...addressEvents,
  ...feedEvents,
  ...vendorEvents,
  ...catalogEvents,
  ...promotionEvents,
  ...orderingEvents,
  ...deliveryEvents,
  ...financeEvents,
  ...notificationEvents,
  ...deviceEvents,
  ...messageDeliveryEvents,
} as const satisfies Record<string, EventSpec>;

/** Every server → client push. */
export const pushes = {
  ...systemPushes,
  ...authPushes,
  ...vendorPushes,
  ...catalogPushes,
  ...orderingPushes,
  ...deliveryPushes,
  ...financePushes,
  ...notificationPushes,
} as const satisfies Record<string, PushSpec>;

export type Events = typeof events;
export type EventName = keyof Events;
/** What a client sends (defaults still optional). */
export type InputOf<E extends EventName> = z.input<Events[E]['input']>;
/** What a handler receives (defaults applied). */
export type ParsedInputOf<E extends EventName> = z.output<Events[E]['input']>;
export type ResultOf<E extends EventName> = z.output<Events[E]['result']>;

export type Pushes = typeof pushes;
export type PushName = keyof Pushes;
export type PushDataOf<P extends PushName> = z.output<Pushes[P]['data']>;
export interface Envelope<T> {
  seq: number;
  event: string;
  at: string;
  data: T;
}
export type PushPayloadOf<P extends PushName> = Pushes[P]['stored'] extends true ? Envelope<PushDataOf<P>> : PushDataOf<P>;

export type ClientToServerEvents = {
  [E in EventName]: (input: InputOf<E>, ack: (res: Ack<ResultOf<E>>) => void) => void;
};
export type ServerToClientEvents = {
  [P in PushName]: (payload: PushPayloadOf<P>) => void;
};

export const eventNames = Object.keys(events) as EventName[];
