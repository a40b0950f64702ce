import { EntitySchema } from 'typeorm';
import type { Role } from '../../protocol/common.js';
import type { UserStatus } from '../../protocol/users.js';

export interface UserRow {
  id: string;
  role: Role;
  name: string;
  email: string | null;
  phone: string | null;
  passwordHash: string;
  status: UserStatus;
  vendorId: string | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export const UserEntity = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    role: { type: 'text' },
    name: { type: 'text' },
    email: { type: 'text', nullable: true },
    phone: { type: 'text', nullable: true },
    passwordHash: { type: 'text', name: 'password_hash' },
    status: { type: 'text', default: 'ACTIVE' },
    vendorId: { type: 'uuid', name: 'vendor_id', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at', createDate: true },
    updatedAt: { type: 'timestamptz', name: 'updated_at', updateDate: true },
    deletedAt: { type: 'timestamptz', name: 'deleted_at', nullable: true },
  },
});
