import { rpc } from '../rpc/rpc.js';
import { createAddress, deleteAddress, listAddresses, setDefaultAddress, updateAddress } from './addresses.service.js';

export const addressHandlers = [
  rpc('addresses:list', listAddresses),
  rpc('addresses:create', createAddress),
  rpc('addresses:update', updateAddress),
  rpc('addresses:set-default', setDefaultAddress),
  rpc('addresses:delete', deleteAddress),
];
