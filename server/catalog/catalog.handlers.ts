import { rpc } from '../rpc/rpc.js';
import { categoryTree, createCategory, deleteCategory, moveCategory, updateCategory } from './categories.service.js';
import { exportProducts, startImport } from './import.service.js';
import { createProduct, deleteProduct, getProduct, listProducts, updateProduct } from './products.service.js';
import { adjustStock, stockHistory } from './stock.service.js';

export const catalogHandlers = [
  rpc('categories:tree', categoryTree),
  rpc('categories:create', createCategory),
  rpc('categories:update', updateCategory),
  rpc('categories:move', moveCategory),
  rpc('categories:delete', deleteCategory),
  rpc('products:list', listProducts),
  rpc('products:get', getProduct),
  rpc('products:create', createProduct),
  rpc('products:update', updateProduct),
  rpc('products:delete', deleteProduct),
  rpc('products:import', startImport),
  rpc('products:export', exportProducts),
  rpc('stock:adjust', adjustStock),
  rpc('stock:history', stockHistory),
];
