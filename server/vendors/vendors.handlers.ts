import { rpc } from '../rpc/rpc.js';
import { createVendor, getVendor, listVendors, setVendorStatus, updateVendor, vendorStats } from './vendors.service.js';

export const vendorHandlers = [
  rpc('vendors:create', createVendor),
  rpc('vendors:list', listVendors),
  rpc('vendors:get', getVendor),
  rpc('vendors:update', updateVendor),
  rpc('vendors:set-status', setVendorStatus),
  rpc('vendors:stats', vendorStats),
];
