import { rpc } from '../rpc/rpc.js';
import { createPromotion, getPromotion, listPromotions, setPromotionActive } from './promotions.service.js';

export const promotionHandlers = [
  rpc('promotions:create', createPromotion),
  rpc('promotions:list', listPromotions),
  rpc('promotions:get', getPromotion),
  rpc('promotions:set-active', setPromotionActive),
];
