import { rpc } from '../rpc/rpc.js';
import { createZone, listZones, updateZone } from './zones.service.js';

export const zoneHandlers = [rpc('zones:list', listZones), rpc('zones:create', createZone), rpc('zones:update', updateZone)];
