#!/usr/bin/env node
// Checks the packed package the way apps get it. Run after `npm run build`:
//   1. `npm pack` into a fresh temp dir; the tarball must hold dist/ (no source maps), README,
//      CHANGELOG and LICENSE, and no sources or tests;
//   2. a consumer root OUTSIDE the repo (so nothing resolves the repo's node_modules by walking up)
//      gets a node_modules of exactly what installing the package brings: the tarball extracted as
//      nestjs-ballast, its `dependencies` and its peers, plus @types/node and typescript to compile,
//      all linked from the repo's installed packages (no network, nothing outside the lockfile);
//   3. each project of scripts/consumers/ is copied there and type-checked: esm-strict (strict,
//      skipLibCheck: false, no @types/pg), esm-drivers (real pg.Pool and PGlite instances,
//      with @types/pg added to its own node_modules) and cjs, which is then run with node: it
//      require()s the package and boots a Nest application context on embedded PGlite.
// Exits non-zero on the first failure. KEEP_CONSUMERS=1 keeps the temp dir for a look.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repo, 'scripts', 'consumers');
const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const started = Date.now();
/** Per command; generous, for a busy 2-core machine (an idle one needs seconds). */
const TIMEOUT_MS = 300_000;
const children = new Set();

/** Packages a consumer project gets on top of the shared node_modules, in its own node_modules. */
const PROJECT_EXTRAS = { 'esm-drivers': ['@types/pg'] };
/** Packages for compiling, which a consumer has anyway. */
const TOOLCHAIN = ['@types/node', 'typescript'];
const REQUIRED_FILES = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts'];

function fail(message) {
  console.error(`check-consumers: FAILED: ${message}`);
  process.exit(1);
}

function step(title) {
  console.log(`check-consumers: ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function failed(command, args, options, status, output) {
  fail(`${path.basename(command)} ${args.join(' ')} (in ${options.cwd}) exited ${status}\n${output.trim()}`);
}

function run(command, args, options) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: TIMEOUT_MS, ...options });
  if (result.status !== 0) failed(command, args, options, result.status ?? result.signal, `${result.stdout ?? ''}${result.stderr ?? ''}`);
  return result.stdout;
}

/** `run`, without blocking: the type-checks run side by side. Resolves to stdout. */
function runAsync(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS });
    children.add(child);
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk) => ((stdout += chunk), (output += chunk)));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (status, signal) => {
      children.delete(child);
      if (status === 0) resolve(stdout);
      else failed(command, args, options, status ?? signal, output);
    });
  });
}

/** Links repo/node_modules/<name> into <modules>/<name>; fails if the repo has not installed it. */
function link(modules, name) {
  const source = path.join(repo, 'node_modules', name);
  if (!fs.existsSync(source)) fail(`${name} is not installed in the repo (run npm ci)`);
  const target = path.join(modules, name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.symlinkSync(source, target, 'dir');
}

if (!fs.existsSync(path.join(repo, 'dist', 'index.js')) || !fs.existsSync(path.join(repo, 'dist', 'index.d.ts'))) {
  fail('dist/ is missing: run npm run build first');
}

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-consumers-')));
if (!path.relative(repo, root).startsWith('..')) fail(`temp dir ${root} is inside the repo`);
process.on('exit', () => {
  for (const child of children) child.kill();
  if (process.env.KEEP_CONSUMERS) console.log(`check-consumers: kept ${root}`);
  else fs.rmSync(root, { recursive: true, force: true });
});

// 1. The tarball.
step('npm pack');
const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', root], { cwd: repo }))[0];
const files = packed.files.map((file) => file.path);
const missing = REQUIRED_FILES.filter((file) => !files.includes(file));
if (missing.length > 0) fail(`the tarball lacks ${missing.join(', ')}`);
const unwanted = files.filter((file) => file.endsWith('.map') || !/^(dist\/|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE$)/.test(file));
if (unwanted.length > 0) fail(`the tarball holds files it should not: ${unwanted.join(', ')}`);
console.log(`check-consumers: ${packed.filename}: ${files.length} files, ${(packed.size / 1024).toFixed(0)} kB`);

// 2. The consumer's node_modules.
const modules = path.join(root, 'node_modules');
const ballastDir = path.join(modules, 'nestjs-ballast');
fs.mkdirSync(ballastDir, { recursive: true });
execFileSync('tar', ['-xzf', path.join(root, packed.filename), '-C', ballastDir, '--strip-components=1']);
const installed = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), ...TOOLCHAIN];
for (const name of installed) link(modules, name);
console.log(`check-consumers: node_modules: nestjs-ballast + ${installed.join(', ')}`);

// 3. The consumer projects: all type-checks at once, and the cjs app runs as soon as it is compiled.
const tsc = path.join(modules, 'typescript', 'bin', 'tsc');
const checks = new Map();
for (const project of fs.readdirSync(fixtures).sort()) {
  const dir = path.join(root, project);
  fs.cpSync(path.join(fixtures, project), dir, { recursive: true });
  for (const name of PROJECT_EXTRAS[project] ?? []) link(path.join(dir, 'node_modules'), name);
  step(`${project}: tsc`);
  checks.set(project, runAsync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir }).then(() => step(`${project}: tsc passed`)));
}
await checks.get('cjs');

step('cjs: node out/main.js');
const cjsDir = path.join(root, 'cjs');
const emitted = fs.readFileSync(path.join(cjsDir, 'out', 'main.js'), 'utf8');
if (!emitted.includes('require("nestjs-ballast")')) fail('the cjs consumer was not compiled to require("nestjs-ballast")');
// Ballast reads env for what the code leaves out (and NODE_ENV=production refuses in-memory PGlite):
// run without the caller's settings.
const ballastEnv = /^(BALLAST_|NODE_ENV$|DATABASE_URL$|REDIS_URL$|VALKEY_URL$|(CACHE|QUEUE|RATE_LIMIT)_PROVIDER$)/;
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !ballastEnv.test(key)));
process.stdout.write(run(process.execPath, ['out/main.js'], { cwd: cjsDir, env: cleanEnv }));

step("esm: node -e \"import('nestjs-ballast')\"");
const esmProbe = "const m = await import('nestjs-ballast'); if (typeof m.BallastModule?.forRoot !== 'function') throw new Error('no BallastModule.forRoot'); console.log(`esm consumer: ${Object.keys(m).length} exports`);";
process.stdout.write(run(process.execPath, ['--input-type=module', '-e', esmProbe], { cwd: path.join(root, 'esm-strict') }));

await Promise.all(checks.values());

step('passed');
