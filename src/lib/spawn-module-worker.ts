import { Worker, type ResourceLimits } from 'node:worker_threads';

/** Whether this code runs from its TypeScript source (tsx, tests) rather than from the compiled build. */
const fromSource = import.meta.url.endsWith('.ts');

/**
 * Starts a worker thread on one of our own modules, named by its compiled URL
 * (`new URL('./x-worker.js', import.meta.url)`), from the build and from source alike. From source the
 * module is a .ts file: the worker first registers the same TypeScript loader (tsx) as bin/outpost.js,
 * since loader hooks of the main thread do not reach workers on Node 20.
 */
export function spawnModuleWorker(
  moduleUrl: URL,
  workerData?: unknown,
  resourceLimits?: ResourceLimits,
): Worker {
  const options = {
    ...(workerData === undefined ? {} : { workerData }),
    ...(resourceLimits ? { resourceLimits } : {}),
  };
  if (!fromSource) return new Worker(moduleUrl, options);
  const source = new URL(moduleUrl.href.replace(/\.js$/, '.ts'));
  return new Worker(
    `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
      `.then(({ register }) => { register(); return import(${JSON.stringify(source.href)}); })`,
    { ...options, eval: true },
  );
}
