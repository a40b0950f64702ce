import { rpc } from '../rpc/rpc.js';
import { syncFeed } from './feed.service.js';

export const feedHandlers = [rpc('feed:sync', syncFeed)];
