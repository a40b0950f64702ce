import { rpc } from '../rpc/rpc.js';
import { collectCash, handOver, pendingCash } from './cash.service.js';
import { cashFlow, platformEarnings, vendorBalance } from './reports.service.js';
import { createSettlement, exportSettlements, getSettlement, listSettlements, markSettlementPaid, verifySettlement } from './settlements.service.js';

export const financeHandlers = [
  rpc('cash:collect', collectCash),
  rpc('cash:handover', handOver),
  rpc('settlements:create', createSettlement),
  rpc('settlements:list', listSettlements),
  rpc('settlements:get', getSettlement),
  rpc('settlements:verify', verifySettlement),
  rpc('settlements:mark-paid', markSettlementPaid),
  rpc('settlements:export', exportSettlements),
  rpc('finance:vendor-balance', vendorBalance),
  rpc('finance:platform-earnings', platformEarnings),
  rpc('finance:cash-flow', cashFlow),
  rpc('finance:pending-cash', pendingCash),
];
