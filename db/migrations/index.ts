import { Core1764050000000 } from './1764050000000-core.js';
import { Identity1764060000000 } from './1764060000000-identity.js';
import { Catalog1764070000000 } from './1764070000000-catalog.js';
import { Ordering1764080000000 } from './1764080000000-ordering.js';
import { Delivery1764090000000 } from './1764090000000-delivery.js';
import { LoginHardening1764100000000 } from './1764100000000-login-hardening.js';
import { Settings1764100200000 } from './1764100200000-settings.js';
import { Deliveries1764200000000 } from './1764200000000-deliveries.js';
import { ImportBatches1764200050000 } from './1764200050000-import-batches.js';
import { Notifications1764200100000 } from './1764200100000-notifications.js';
import { Devices1764200200000 } from './1764200200000-devices.js';
import { Deadlines1764200300000 } from './1764200300000-deadlines.js';
import { Search1764200400000 } from './1764200400000-search.js';
import { SearchLexemes1764200500000 } from './1764200500000-search-lexemes.js';
import { UnreadCounts1764200600000 } from './1764200600000-unread-counts.js';
import { Refusals1764200700000 } from './1764200700000-refusals.js';
import { CheckoutDeadlines1764200800000 } from './1764200800000-checkout-deadlines.js';

/** In order; each one reversible. */
export const migrations = [
  Core1764050000000,
  Identity1764060000000,
  Catalog1764070000000,
  Ordering1764080000000,
  Delivery1764090000000,
  LoginHardening1764100000000,
  Settings1764100200000,
  Deliveries1764200000000,
  ImportBatches1764200050000,
  Notifications1764200100000,
  Devices1764200200000,
  Deadlines1764200300000,
  Search1764200400000,
  SearchLexemes1764200500000,
  UnreadCounts1764200600000,
  Refusals1764200700000,
  CheckoutDeadlines1764200800000,
];
