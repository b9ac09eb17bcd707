export { ShelfError, SHELF_ERROR_CODES, isShelfError, toShelfError } from './shelf-error.ts';
export type { ShelfErrorCode } from './shelf-error.ts';
export { installErrorTransfer } from './transfer.ts';
