import { z } from 'zod';
import { Id, IsoTime, Role } from './common.js';

export const UserStatus = z.enum(['ACTIVE', 'DISABLED']);
export type UserStatus = z.infer<typeof UserStatus>;

export const User = z.object({
  id: Id,
  role: Role,
  name: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  status: UserStatus,
  vendorId: Id.nullable(),
  shopId: Id.nullable(),
  zoneIds: z.array(Id),
  createdAt: IsoTime,
});
export type User = z.infer<typeof User>;
