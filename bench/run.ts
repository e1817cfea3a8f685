/**
 * Benchmark runner: `npm run bench -- <name>` runs bench/<name>.ts. Each benchmark prints
 * ratios against a baseline measured in the same process, and a JSON object on its last line.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

async function main(): Promise<void> {
  const available = readdirSync(__dirname)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'timing.ts')
    .map((f) => f.replace(/\.ts$/, ''));
  const name = process.argv[2];
  if (name === undefined || !available.includes(name)) {
    console.error(`usage: npm run bench -- <name>, with <name> one of: ${available.join(', ')}`);
    process.exit(2);
  }
  const mod = (await import(join(__dirname, `${name}.ts`))) as { run: () => Promise<void> | void };
  await mod.run();
}

void main();
