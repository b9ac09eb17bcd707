/**
 * The storage worker: owns IndexedDB (and later OPFS and sql.js) for one shelf. Wiring only;
 * the logic lives in src/service.
 */
import { expose } from 'comlink';
import { StorageService } from '../src/service/index.ts';

expose(new StorageService());

/** The worker's API type, derived from its implementation. */
export type StorageApi = StorageService;
