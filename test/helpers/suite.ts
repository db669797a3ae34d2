/**
 * Something one describe block shares (two instances, an SMTP inbox): started by the block's
 * before hook, ended by its after hook. The returned object stands for it — reads go to the
 * started value — so a block needs no `let` and pair of hooks; it may be handed to another
 * forSuite() of an inner block (read there in its own hook). Reading it outside the block's
 * hooks and tests throws.
 */
export function forSuite<T extends object>(start: () => Promise<T>, end: (value: T) => Promise<unknown>): T {
  let value: T | undefined;
  before(async () => {
    value = await start();
  });
  after(async () => {
    if (value !== undefined) await end(value);
    value = undefined;
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (value === undefined) throw new Error(`forSuite: ${String(key)} read outside the suite that starts it (or its start failed)`);
      const member: unknown = Reflect.get(value, key, value);
      return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(value) : member;
    },
    has: (_target, key) => value !== undefined && key in value,
  });
}
