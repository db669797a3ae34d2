/**
 * npm run lint: fails when folders under src/ import each other in a cycle. dependency-cruiser
 * reads the imports (type-only ones included); this groups its modules by top-level folder
 * (files directly in src/ are their own group) and reports every strongly connected group of
 * folders with the file-level imports that close the loop.
 */
import { execFileSync } from 'node:child_process';

interface Cruised {
  readonly summary: { readonly violations: ReadonlyArray<{ readonly from: string; readonly to: string; readonly rule: { readonly name: string }; readonly cycle?: ReadonlyArray<{ readonly name: string }> }> };
  readonly modules: ReadonlyArray<{ readonly source: string; readonly dependencies: ReadonlyArray<{ readonly resolved: string }> }>;
}

const folderOf = (path: string): string => /^src\/[^/]+/.exec(path)?.[0] ?? path;

function cruise(): string {
  const args = ['node_modules/dependency-cruiser/bin/dependency-cruiser.mjs', 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'];
  try {
    return execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    // It exits non-zero when a rule is broken; the JSON still says which.
    const { stdout } = error as { stdout?: string };
    if (typeof stdout === 'string' && stdout.startsWith('{')) return stdout;
    throw error;
  }
}
const cruised = JSON.parse(cruise()) as Cruised;
for (const violation of cruised.summary.violations) {
  console.error(`${violation.rule.name}: ${violation.from} → ${violation.to}${violation.cycle === undefined ? '' : ` (${violation.cycle.map((step) => step.name).join(' → ')})`}`);
  process.exitCode = 1;
}

const edges = new Map<string, Map<string, string[]>>();
for (const module of cruised.modules) {
  if (!module.source.startsWith('src/')) continue;
  const from = folderOf(module.source);
  for (const dependency of module.dependencies) {
    if (!dependency.resolved.startsWith('src/')) continue;
    const to = folderOf(dependency.resolved);
    if (to === from) continue;
    const targets = edges.get(from) ?? new Map<string, string[]>();
    targets.set(to, [...(targets.get(to) ?? []), `${module.source} → ${dependency.resolved}`]);
    edges.set(from, targets);
  }
}

// Tarjan's strongly connected components over the folder graph.
let counter = 0;
const index = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const cycles: string[][] = [];
function visit(folder: string): void {
  index.set(folder, counter);
  low.set(folder, counter);
  counter += 1;
  stack.push(folder);
  for (const next of edges.get(folder)?.keys() ?? []) {
    if (!index.has(next)) {
      visit(next);
      low.set(folder, Math.min(low.get(folder)!, low.get(next)!));
    } else if (stack.includes(next)) low.set(folder, Math.min(low.get(folder)!, index.get(next)!));
  }
  if (low.get(folder) !== index.get(folder)) return;
  const component: string[] = [];
  let member: string;
  do {
    member = stack.pop()!;
    component.push(member);
  } while (member !== folder);
  if (component.length > 1) cycles.push(component.sort());
}
for (const folder of edges.keys()) if (!index.has(folder)) visit(folder);

if (cycles.length === 0) {
  console.log(`folder cycles: none (${edges.size} folders)`);
} else {
  for (const cycle of cycles) {
    console.error(`folder cycle: ${cycle.join(' ↔ ')}`);
    for (const from of cycle) {
      for (const [to, imports] of edges.get(from) ?? []) if (cycle.includes(to)) for (const line of imports) console.error(`  ${line}`);
    }
  }
  process.exitCode = 1;
}
