import { rpc } from '../rpc/rpc.js';
import { countUnread, listNotifications, readNotifications } from './notifications.service.js';
import { getPreferences, setPreferences } from './preferences.js';

export const notificationHandlers = [
  rpc('notifications:list', listNotifications),
  rpc('notifications:read', readNotifications),
  rpc('notifications:unread-count', countUnread),
  rpc('notifications:preferences:get', getPreferences),
  rpc('notifications:preferences:set', setPreferences),
];
