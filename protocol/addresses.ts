import { z } from 'zod';
import { Empty, Id } from './common.js';
import { defineEvents } from './spec.js';

export const Address = z.object({
  id: Id,
  label: z.string(),
  line: z.string(),
  zoneId: Id,
  notes: z.string().nullable(),
  location: z.object({ lat: z.number(), lng: z.number() }).nullable(),
  isDefault: z.boolean(),
});
export type Address = z.infer<typeof Address>;

const Location = z.strictObject({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) });
const fields = {
  label: z.string().trim().min(1).max(100),
  line: z.string().trim().min(1).max(500),
  zoneId: Id,
  notes: z.string().trim().max(500).nullable(),
  location: Location.nullable(),
};
const SHOP = ['SHOP_OWNER'] as const;

export const addressEvents = defineEvents({
  'addresses:list': { summary: "The shop's delivery addresses, default first.", roles: SHOP, input: Empty, result: z.object({ items: z.array(Address) }) },
  'addresses:create': {
    summary: 'Add a delivery address in an active zone; the first one becomes the default.',
    roles: SHOP,
    input: z.strictObject({ ...fields, notes: fields.notes.optional(), location: fields.location.optional(), isDefault: z.boolean().optional() }),
    result: Address,
  },
  'addresses:update': {
    summary: 'Change a delivery address.',
    roles: SHOP,
    input: z.strictObject({
      id: Id,
      label: fields.label.optional(),
      line: fields.line.optional(),
      zoneId: fields.zoneId.optional(),
      notes: fields.notes.optional(),
      location: fields.location.optional(),
    }),
    result: Address,
  },
  'addresses:set-default': { summary: 'Make an address the default.', roles: SHOP, input: z.strictObject({ id: Id }), result: Address },
  'addresses:delete': {
    summary: 'Remove an address; when it was the default, the newest remaining one becomes the default.',
    roles: SHOP,
    input: z.strictObject({ id: Id }),
    result: z.object({ id: Id }),
  },
});
