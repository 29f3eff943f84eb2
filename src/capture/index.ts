export { buildCaptureServer, type CaptureServerOptions, type CaptureSink } from './capture-server.js';
export type { TerminalCredential } from './terminal-auth.js';
export { defaultWindowFilesDir, type WindowSource } from './window-routes.js';
