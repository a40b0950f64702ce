import { rpc } from '../rpc/rpc.js';
import { createUser, deleteUser, getUser, listUsers, setUserStatus, unlockUser, updateMe, updateUser } from './users.service.js';

export const userHandlers = [
  rpc('users:create', createUser),
  rpc('users:list', listUsers),
  rpc('users:get', getUser),
  rpc('users:update', updateUser),
  rpc('users:set-status', setUserStatus),
  rpc('users:delete', deleteUser),
  rpc('users:unlock', unlockUser),
  rpc('me:update', updateMe),
];
