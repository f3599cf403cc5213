/**
 * Values made on first use: a group's `(load, shape)` gives a value that answers every operation on it (a property read or
 * write, `in`, its keys, a call, `new`) by running `load` once and forwarding to what it returned. `shape` is what the real value is (an
 * object, a function or class, an array), so that `typeof` and `Array.isArray` answer as they would for it.
 *
 * Values of one package are made by one group (`lazyGroup()`), so that `x instanceof LazyClass` answers false without
 * loading anything while nothing of the group has loaded (no instance of the package's classes can exist before some of
 * the package is), and as `instanceof` does once anything has. Elysia's error handling asks that of TypeBox's error classes
 * for every error it handles, a 404 included.
 */
export type Shape = 'object' | 'function' | 'array';

const TARGETS: Record<Shape, () => object> = { object: () => ({}), function: () => function lazy() {}, array: () => [] };

type Group = <T>(load: () => T, shape: Shape) => T;

export function lazyGroup(): Group {
  const group = { loaded: false };
  return (load, shape) => lazyValue(load, shape, group);
}

/** TypeBox's values as Elysia and exact-mirror import them (lazy-typebox.ts): the only way they reach it. */
export const typeboxValue: Group = lazyGroup();

function lazyValue<T>(load: () => T, shape: Shape, group: { loaded: boolean }): T {
  let real: T;
  let loaded = false;
  const value = () => {
    if (!loaded) (real = load()), (loaded = group.loaded = true);
    return real as object;
  };
  const target = TARGETS[shape]();
  // A key the target itself holds as non-configurable (a function's `prototype`, an array's `length`) must be reported as
  // non-configurable (the Proxy invariants); it is writable, so it may be reported with the real value's value.
  const fixed = (key: string | symbol) => {
    const own = Reflect.getOwnPropertyDescriptor(target, key);
    return own && !own.configurable ? own : undefined;
  };
  return new Proxy(target, {
    get: (_, key) => (key === Symbol.hasInstance && !group.loaded ? () => false : Reflect.get(value(), key)),
    set: (_, key, v) => Reflect.set(value(), key, v),
    has: (_, key) => Reflect.has(value(), key),
    deleteProperty: (_, key) => Reflect.deleteProperty(value(), key),
    ownKeys: () => [...new Set([...Reflect.ownKeys(value()), ...Reflect.ownKeys(target).filter((key) => fixed(key))])],
    getOwnPropertyDescriptor: (_, key) => {
      const own = Reflect.getOwnPropertyDescriptor(value(), key);
      const kept = fixed(key);
      return kept ? { ...kept, value: Reflect.get(value(), key) } : own && { ...own, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(value(), key, descriptor),
    getPrototypeOf: () => Reflect.getPrototypeOf(value()),
    apply: (_, self, args) => Reflect.apply(value() as (...a: unknown[]) => unknown, self, args),
    construct: (_, args, newTarget) => Reflect.construct(value() as new (...a: unknown[]) => object, args, newTarget),
  }) as T;
}
