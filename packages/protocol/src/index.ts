export * from './errors.js';
export * from './events.js';
export * from './ws.js';
export * from './api.js';
export * from './capabilities.js';
export * from './resources.js';
