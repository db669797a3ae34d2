import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A module's file name in a web folder: compiled `.js` (dist/) or its `.ts` source (src/). */
const MODULE_FILE = /^([a-z][a-z0-9-]*)\.(js|ts)$/;

/** Turns one TypeScript browser module into JavaScript. */
export type CompileModule = (source: string) => Promise<string>;

/**
 * The browser modules of the web folders, each read (and compiled, from src/) once per process
 * and kept. Compiling is slow where it happens at all: the first one loads the TypeScript compiler,
 * which on a busy machine took longer than a page may take to load. So a server prepares every
 * module before it listens, and compiled sources are also kept on disk by their content, for
 * the next process (`npm test` fills that cache before the tests start: scripts/test).
 */
export interface BrowserModules {
  /** A module of a folder by its base name: the compiled .js if there is one, else the compiled .ts source. */
  module(dir: string, base: string): Promise<string | undefined>;
  /** Reads (and compiles) every module of these folders now. */
  prepare(dirs: readonly string[]): Promise<void>;
  /** How many modules this instance compiled (not found compiled in the folder or the disk cache). */
  readonly compiled: number;
}

export interface BrowserModulesDeps {
  readonly compile?: CompileModule;
  /** Compiled sources by content; absent: none kept on disk. */
  readonly cacheDir?: string | undefined;
}

/** Compiles a browser module from its TypeScript source (development and tests; dist/ ships .js). */
export async function transpile(source: string): Promise<string> {
  const ts = (await import('typescript')).default;
  return ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, rewriteRelativeImportExtensions: true, verbatimModuleSyntax: true },
  }).outputText;
}

/** What else decides `transpile`'s output: its options and the compiler's version (read without loading the compiler). */
async function compilerKey(): Promise<string> {
  const version = await readFile(fileURLToPath(import.meta.resolve('typescript/package.json')), 'utf8').then(
    (text) => String((JSON.parse(text) as { version?: unknown }).version),
    () => 'unknown',
  );
  return `typescript ${version} es2022 esnext rewriteRelativeImportExtensions verbatimModuleSyntax`;
}

/** Where compiled sources are kept between processes: beside the packages (src/ and dist/ are both two levels below). */
export const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/gatehouse-browser-modules/', import.meta.url));

export function createBrowserModules({ compile = transpile, cacheDir }: BrowserModulesDeps = {}): BrowserModules {
  const modules = new Map<string, Promise<string | undefined>>();
  let compiled = 0;
  let keyed: Promise<string> | undefined;

  /** The compiled source from the disk cache, else compiled now and kept there (a failed write only costs the next process a compile). */
  async function compiledSource(source: string): Promise<string> {
    const key = createHash('sha256').update(await (keyed ??= compilerKey())).update('\0').update(source).digest('hex');
    const file = cacheDir === undefined ? undefined : join(cacheDir, `${key}.js`);
    const kept = file === undefined ? undefined : await readFile(file, 'utf8').catch(() => undefined);
    if (kept !== undefined) return kept;
    compiled += 1;
    const output = await compile(source);
    if (file !== undefined && cacheDir !== undefined) {
      // Written whole under another name, then renamed: a process reading at the same time never sees half of it.
      const partial = `${file}.${process.pid}.${compiled}.tmp`;
      await mkdir(cacheDir, { recursive: true })
        .then(() => writeFile(partial, output))
        .then(() => rename(partial, file))
        .catch(() => undefined);
    }
    return output;
  }

  async function read(dir: string, base: string): Promise<string | undefined> {
    const ready = await readFile(join(dir, `${base}.js`), 'utf8').catch(() => undefined);
    if (ready !== undefined) return ready;
    const source = await readFile(join(dir, `${base}.ts`), 'utf8').catch(() => undefined);
    return source === undefined ? undefined : compiledSource(source);
  }

  function module(dir: string, base: string): Promise<string | undefined> {
    const path = join(dir, base);
    let found = modules.get(path);
    if (found === undefined) {
      found = read(dir, base);
      modules.set(path, found);
    }
    return found;
  }

  return {
    module,
    async prepare(dirs) {
      for (const dir of dirs) {
        const names = await readdir(dir).catch(() => [] as string[]);
        const bases = new Set(names.flatMap((name) => MODULE_FILE.exec(name)?.[1] ?? []));
        // One after another: on a busy machine parallel compiles only take turns anyway.
        for (const base of bases) await module(dir, base);
      }
    },
    get compiled() {
      return compiled;
    },
  };
}

/** The process's browser modules (src/browser-app/serve.ts uses them unless given others). */
export const processBrowserModules: BrowserModules = createBrowserModules({ cacheDir: DEFAULT_CACHE_DIR });
