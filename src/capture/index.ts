export { buildCaptureServer, type CaptureServerOptions, type CaptureSink } from './capture-server.js';
