#!/usr/bin/env node
// Type-checks every ```ts block of README.md (indented ones in lists too) as its own ES module,
// strictly, against the built package: run after `npm run build`. The modules go to a fresh temp
// dir outside the repo whose node_modules links the repo's installed packages and resolves
// `nestjs-ballast` through the repo's package.json `exports`, as an app's import does. App-domain
// placeholders the snippets use (a Mailer, a ProductApi...) are declared once in
// scripts/readme-snippets/app-domain.d.ts; everything else a snippet uses it must import itself.
// An error is reported at its README line: README.md:LINE:COLUMN. Exits non-zero on any error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readmePath = path.join(repo, 'README.md');
const prelude = path.join(repo, 'scripts', 'readme-snippets', 'app-domain.d.ts');
const ts = createRequire(path.join(repo, 'package.json'))('typescript');
const started = Date.now();

function fail(message) {
  console.error(`check-readme-snippets: FAILED: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(path.join(repo, 'dist', 'index.d.ts'))) fail('dist/ is missing: run npm run build first');

/** The ```ts blocks: README line of the opening fence, and the code with the fence's indent removed. */
function extractBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```ts\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1];
    const code = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[j]); j++) {
      if (lines[j].trim() !== '' && !lines[j].startsWith(indent)) fail(`README.md:${j + 1}: line is less indented than its \`\`\`ts fence`);
      code.push(lines[j].slice(indent.length));
    }
    if (j === lines.length) fail(`README.md:${i + 1}: \`\`\`ts block is never closed`);
    blocks.push({ line: i + 1, indent: indent.length, code: `${code.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

const blocks = extractBlocks(fs.readFileSync(readmePath, 'utf8'));
if (blocks.length === 0) fail('README.md has no ```ts block');

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-readme-')));
if (!path.relative(repo, root).startsWith('..')) fail(`temp dir ${root} is inside the repo`);
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

// node_modules: every package the repo installed, plus nestjs-ballast itself (the repo, so its
// package.json `exports` points the import at dist/).
const modules = path.join(root, 'node_modules');
fs.mkdirSync(modules);
for (const entry of fs.readdirSync(path.join(repo, 'node_modules'))) {
  if (entry.startsWith('.') || entry === 'nestjs-ballast') continue;
  fs.symlinkSync(path.join(repo, 'node_modules', entry), path.join(modules, entry), 'dir');
}
fs.symlinkSync(repo, path.join(modules, 'nestjs-ballast'), 'dir');
fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'readme-snippets', private: true, type: 'module' }));
fs.copyFileSync(prelude, path.join(root, 'app-domain.d.ts'));

const files = new Map();
for (const block of blocks) {
  const file = path.join(root, `readme-line-${block.line}.ts`);
  fs.writeFileSync(file, block.code);
  files.set(file, block);
}

const program = ts.createProgram({
  rootNames: [path.join(root, 'app-domain.d.ts'), ...files.keys()],
  options: {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    // Third-party .d.ts are not ours to check (@nestjs/platform-express's need @types/express);
    // Ballast's own are checked with skipLibCheck: false by scripts/check-consumers.mjs.
    skipLibCheck: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    types: ['node'],
    noEmit: true,
  },
});

const diagnostics = ts.getPreEmitDiagnostics(program);
for (const diagnostic of diagnostics) {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
  const block = diagnostic.file && files.get(path.resolve(diagnostic.file.fileName));
  let where = diagnostic.file ? path.relative(root, diagnostic.file.fileName) : '(options)';
  if (diagnostic.file && diagnostic.start !== undefined) {
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    where = block ? `README.md:${block.line + 1 + line}:${block.indent + character + 1}` : `${where}:${line + 1}:${character + 1}`;
  }
  console.error(`${where}: error TS${diagnostic.code}: ${message}`);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (diagnostics.length > 0) fail(`${diagnostics.length} error(s) in the README's ts blocks (${seconds} s)`);
console.log(`check-readme-snippets: ${blocks.length} ts blocks of README.md compile (${seconds} s)`);
