/** How messages name the config compiled into the binary (embedded.ts): apart, so that naming it loads nothing else. */
export const EMBEDDED_CONFIG_NAME = 'config/services.json (embedded)';
