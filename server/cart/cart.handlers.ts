import { rpc } from '../rpc/rpc.js';
import { addToCart, clearCart, getCart, removeCartLine, setCoupon, updateCartLine } from './cart.service.js';

export const cartHandlers = [
  rpc('cart:get', getCart),
  rpc('cart:add', addToCart),
  rpc('cart:update', updateCartLine),
  rpc('cart:remove', removeCartLine),
  rpc('cart:clear', clearCart),
  rpc('cart:coupon', setCoupon),
];
