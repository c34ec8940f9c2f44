export const STOCK_STORE = Symbol('STOCK_STORE');
