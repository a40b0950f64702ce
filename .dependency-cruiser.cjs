/** Layers without circles: checked by test/layers.test.ts (and `npx depcruise server protocol db`). */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import circle: one of the modules belongs lower.', from: {}, to: { circular: true } },
    {
      name: 'rpc-knows-no-domain',
      severity: 'error',
      comment: 'The RPC layer serves every domain and runs none: it may name their types (Actor), never call into a domain folder.',
      from: { path: '^server/rpc/' },
      to: { path: '^server/[^/]+/', pathNot: '^server/rpc/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'protocol-stands-alone',
      severity: 'error',
      comment: 'Client apps import protocol/ only: it must not reach into the server or the database.',
      from: { path: '^protocol/' },
      to: { path: '^(server|db)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The built package (npm run build:protocol) is not source.
    exclude: { path: '^protocol/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
