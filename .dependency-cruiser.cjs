// Layering rules for lib/. Run with `npm run check:layers` (also run by .ci/run).
// CommonJS on purpose: `.dependency-cruiser.cjs` is the name depcruise finds by itself, and `.cjs`
// loads the same whatever the package's "type" is.
//
// Paths are relative to the repository root ("lib/…"). Type-only imports count like any other
// import (tsPreCompilationDeps), so `import type { X } from '…'` can break a rule too.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere in lib/: a file must not import, directly or through other files, a file that imports it back.',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'Every import in lib/ must resolve to a file or an installed package. (Also keeps this check honest: an import it cannot resolve is one no other rule can see.)',
      from: { path: '^lib/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'common-errors-self-contained',
      severity: 'error',
      comment:
        'lib/common and lib/errors are the shared base: inside lib/ they import only each other (common may import errors and errors may import common), nothing else from lib/.',
      from: { path: '^lib/(common|errors)/' },
      to: { path: '^lib/', pathNot: '^lib/(common|errors)/' },
    },
    {
      name: 'core-stays-small',
      severity: 'error',
      comment:
        'lib/core (options, connection registry, migrator) must not import a service folder (lib/cache, lib/queue, lib/rate-limit), lib/drivers, lib/http, or a top-level lib/*.ts file.',
      from: { path: '^lib/core/' },
      to: { path: ['^lib/(cache|queue|rate-limit|drivers|http)/', '^lib/[^/]+$'] },
    },
    {
      name: 'services-independent',
      severity: 'error',
      comment: 'The services lib/cache, lib/queue and lib/rate-limit never import one another, in any direction.',
      from: { path: '^lib/(cache|queue|rate-limit)/' },
      to: { path: '^lib/(cache|queue|rate-limit)/', pathNot: '^lib/$1/' },
    },
    {
      name: 'services-no-drivers',
      severity: 'error',
      comment:
        'The services (lib/cache, lib/queue, lib/rate-limit) must not import anything from lib/drivers; they only know the store/backend interfaces.',
      from: { path: '^lib/(cache|queue|rate-limit)/' },
      to: { path: '^lib/drivers/' },
    },
    {
      name: 'services-no-driver-packages',
      severity: 'error',
      comment:
        'The services (lib/cache, lib/queue, lib/rate-limit) must not import a driver package (pg, @electric-sql/pglite, ioredis, bullmq), not even for types: only lib/core and lib/drivers talk to them.',
      from: { path: '^lib/(cache|queue|rate-limit)/' },
      to: { path: '(^|/)node_modules/(@types/)?(pg|@electric-sql/pglite|ioredis|bullmq)/' },
    },
    {
      name: 'drivers-only-seams',
      severity: 'error',
      comment:
        'lib/drivers may import from lib/ only lib/drivers itself, lib/core, lib/common, lib/errors and, from a service folder, its seams and option types: *.interface.ts, resolve-*-config.ts, and the pure rate-limit modules rate-limit-algorithm.ts and rate-limit-state.ts (the algorithm codes and state math every store shares). Never lib/queue/runner, a *.service.ts, guard, explorer, worker, decorator or providers file, lib/http, or a top-level lib/*.ts file.',
      from: { path: '^lib/drivers/' },
      to: {
        path: '^lib/',
        pathNot: [
          '^lib/(drivers|core|common|errors)/',
          '^lib/(cache|queue|rate-limit)/[^/]+\\.interface\\.ts$',
          '^lib/(cache|queue|rate-limit)/resolve-[^/]+-config\\.ts$',
          '^lib/rate-limit/rate-limit-(algorithm|state)\\.ts$',
        ],
      },
    },
    {
      name: 'driver-folders-isolated',
      severity: 'error',
      comment:
        'A driver folder (lib/drivers/postgres, lib/drivers/redis, lib/drivers/bullmq) must not import another driver folder; only lib/drivers/driver.registry.ts brings them together.',
      from: { path: '^lib/drivers/(postgres|redis|bullmq)/' },
      to: { path: '^lib/drivers/(postgres|redis|bullmq)/', pathNot: '^lib/drivers/$1/' },
    },
    {
      name: 'http-only-errors-common',
      severity: 'error',
      comment: 'lib/http (the exception filter) may import from lib/ only lib/errors and lib/common.',
      from: { path: '^lib/http/' },
      to: { path: '^lib/', pathNot: '^lib/(http|errors|common)/' },
    },
  ],
  options: {
    // Only the library itself; lib/ imports nothing from test/, sample-app/ or bench/.
    doNotFollow: { path: '(^|/)node_modules/' },
    // Count `import type` and type-only re-exports as dependencies.
    tsPreCompilationDeps: true,
    // Resolve the way tsc does (module/moduleResolution nodenext): './x.js' finds './x.ts'.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    // Skip the file-level cache and the graph output: this is a pass/fail check.
    cache: false,
  },
};
