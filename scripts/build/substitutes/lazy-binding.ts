/**
 * `const <name> = require("<module>");` (or `var`) as a binding that loads the module when a property is first read: every
 * read goes to the module, which `require` loads once and then caches (in a bundle, the bundler's own `require_<module>()`).
 */
export const lazyBinding = (name: string, module: string, keyword: 'const' | 'var' = 'const') =>
  `${keyword} ${name} = new Proxy({}, { get: (_target, key) => require("${module}")[key] });`;
