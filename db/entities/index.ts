import { UserEntity } from './user.entity.js';
import { ZoneEntity } from './zone.entity.js';

export { UserEntity, ZoneEntity };
export const entities = [ZoneEntity, UserEntity];
