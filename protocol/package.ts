/**
 * The root entry of the `@lilium/protocol` package: the whole contract (`index.ts`) and the typed call
 * (`client.ts`) with the live client that stays right across reconnects (`live-client.ts`), so an app
 * imports everything from one name. The server imports `index.ts` directly.
 */
export * from './index.js';
export * from './client.js';
export * from './live-client.js';
