import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `bench/results/`, resolved from the compiled file's place (dist-bench/bench/support) or the source's. */
function resultsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes('dist-bench') ? join(here.split('dist-bench')[0]!, 'bench') : join(here, '..');
  return join(root, 'results');
}

/** Prints rows as an aligned table and writes `bench/results/<name>.json` as `{ rows, ... }`. */
export function report(name: string, rows: Array<Record<string, string | number>>, extra: Record<string, unknown> = {}): string {
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((row) => columns.map((c) => format(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padStart(widths[i]!)).join('  ');
  console.log(`\n${name}`);
  console.log(line(columns));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ generatedAt: new Date().toISOString(), ...extra, rows }, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
  return file;
}

function format(value: string | number | undefined): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(value >= 100 ? 0 : 2);
  return value ?? '';
}
