import pkg from './package.json' with { type: 'json' };

/** The version of the wire contract, `version` of `@lilium/protocol`: a wire change bumps it (see CHANGELOG.md). */
export const PROTOCOL_VERSION: string = pkg.version;
