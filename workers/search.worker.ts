/**
 * The search worker: owns the search index for one shelf. Wiring only; the logic lives in
 * src/service/search-service.ts.
 */
import { expose } from 'comlink';
import { SearchService } from '../src/service/search-service.ts';

expose(new SearchService());

/** The worker's API type, derived from its implementation. */
export type SearchApi = SearchService;
