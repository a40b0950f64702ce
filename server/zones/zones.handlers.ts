import { rpc } from '../rpc/rpc.js';
import { listZones } from './zones.service.js';

export const zoneHandlers = [rpc('zones:list', listZones)];
