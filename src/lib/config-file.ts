import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, errorMessage } from './errors.js';

/**
 * Environment overrides: OUTPOST_<PATH> where nested keys are joined by a double underscore,
 * e.g. OUTPOST_API__PORT=9000 sets api.port, OUTPOST_MQTT__URL sets mqtt.url. Keys are matched
 * case-insensitively against camelCase names by dropping the case (OUTPOST_STOREID or OUTPOST_STORE_ID
 * both set storeId). Values stay strings; the schema coerces where a number or boolean is expected.
 */
export function applyEnvOverrides(
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  prefix = 'OUTPOST_',
  /** Top-level keys this config has: an agent and a hub on one machine each take only their own. */
  knownKeys?: readonly string[],
): { config: Record<string, unknown>; applied: string[] } {
  const result = structuredClone(config);
  const applied: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined) continue;
    const parts = name.slice(prefix.length).split('__').filter(Boolean);
    if (parts.length === 0) continue;
    if (knownKeys && !knownKeys.some((k) => normalise(k) === normalise(parts[0]!))) continue;
    let target: Record<string, unknown> = result;
    for (const [i, part] of parts.entries()) {
      const key = matchKey(target, part);
      if (i === parts.length - 1) {
        target[key] = value;
      } else {
        const next = target[key];
        if (typeof next !== 'object' || next === null || Array.isArray(next)) target[key] = {};
        target = target[key] as Record<string, unknown>;
      }
    }
    applied.push(name);
  }
  return { config: result, applied };
}

const normalise = (key: string) => key.replace(/_/g, '').toLowerCase();

/** Finds the existing key an env name refers to; unknown ones become camelCase (STORE_ID → storeId). */
function matchKey(target: Record<string, unknown>, envPart: string): string {
  const existing = Object.keys(target).find((k) => normalise(k) === normalise(envPart));
  if (existing) return existing;
  return envPart.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Formats zod issues as one line each, naming the field: `api.port: must be a port number`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('\n  ');
}

/** Reads a JSON config file, applies environment overrides and validates it; every failure is a ConfigError. */
export function loadConfigFile<S extends z.ZodType>(
  schema: S,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${errorMessage(error)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const knownKeys = schema instanceof z.ZodObject ? Object.keys(schema.shape as object) : undefined;
  const { config } = applyEnvOverrides(raw as Record<string, unknown>, env, 'OUTPOST_', knownKeys);
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    throw new ConfigError(`invalid config in ${file}:\n  ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}
