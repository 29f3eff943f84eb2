import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, errorMessage } from './errors.js';

/** One environment variable that set one config field. */
export interface EnvOverride {
  variable: string;
  path: string[];
  value: string;
}

/**
 * Environment overrides: OUTPOST_<PATH> where nested keys are joined by a double underscore,
 * e.g. OUTPOST_API__PORT=9000 sets api.port, OUTPOST_MQTT__URL sets mqtt.url. Keys are matched
 * case-insensitively against camelCase names by dropping the case (OUTPOST_STOREID or OUTPOST_STORE_ID
 * both set storeId), against the fields the schema knows as well as those the file has. Values stay
 * strings; the schema coerces where a number or boolean is expected.
 */
export function applyEnvOverrides(
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  prefix = 'OUTPOST_',
  /** The config's schema: an agent and a hub on one machine each take only the variables naming their own fields. */
  schema?: z.ZodType,
): { config: Record<string, unknown>; applied: string[]; overrides: EnvOverride[] } {
  const result = structuredClone(config);
  const overrides: EnvOverride[] = [];
  const topLevel = schema ? knownKeysAt(schema, []) : undefined;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined) continue;
    const parts = name.slice(prefix.length).split('__').filter(Boolean);
    if (parts.length === 0) continue;
    if (topLevel && !topLevel.some((k) => normalise(k) === normalise(parts[0]!))) continue;
    let target: Record<string, unknown> = result;
    const path: string[] = [];
    for (const [i, part] of parts.entries()) {
      const key = matchKey(target, part, schema ? knownKeysAt(schema, path) : []);
      path.push(key);
      if (i === parts.length - 1) {
        target[key] = value;
      } else {
        const next = target[key];
        if (typeof next !== 'object' || next === null || Array.isArray(next)) target[key] = {};
        target = target[key] as Record<string, unknown>;
      }
    }
    overrides.push({ variable: name, path, value });
  }
  return { config: result, applied: overrides.map((o) => o.variable), overrides };
}

const normalise = (key: string) => key.replace(/_/g, '').toLowerCase();

/** Finds the key an env name refers to; unknown ones become camelCase (STORE_ID → storeId). */
function matchKey(target: Record<string, unknown>, envPart: string, known: readonly string[]): string {
  const existing = [...Object.keys(target), ...known].find((k) => normalise(k) === normalise(envPart));
  if (existing) return existing;
  return envPart.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The variable that would set `path`: ['mqtt', 'keepaliveSeconds'] → OUTPOST_MQTT__KEEPALIVE_SECONDS. */
function variableFor(path: readonly string[], prefix = 'OUTPOST_'): string {
  return prefix + path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

/** Strips optional, default, nullable and pipe wrappers down to the schema that holds the shape. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let depth = 0; depth < 16; depth += 1) {
    const def = current.def as { innerType?: z.ZodType; in?: z.ZodType; type: string };
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else break;
  }
  return current;
}

/** The field names the schema allows at `path` (empty where it is not an object). */
function knownKeysAt(schema: z.ZodType, path: readonly (string | number | symbol)[]): string[] {
  let current = unwrap(schema);
  for (const key of path) {
    if (current instanceof z.ZodArray && typeof key === 'number') {
      current = unwrap(current.element as z.ZodType);
      continue;
    }
    if (!(current instanceof z.ZodObject) || typeof key !== 'string') return [];
    const next = (current.shape as Record<string, z.ZodType | undefined>)[key];
    if (!next) return [];
    current = unwrap(next);
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape as object) : [];
}

/** Levenshtein distance, case-insensitive: enough to catch a misspelt or mis-cased key. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= t.length; j += 1) {
      const substitution = previous[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[t.length]!;
}

/** The known key nearest to a misspelt one, if it is near enough to be what was meant. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    // A key cut short (keepalive for keepaliveSeconds) is as good as a near miss.
    const truncated = key.length >= 4 && candidate.toLowerCase().startsWith(key.toLowerCase());
    const distance = truncated ? 1 : editDistance(key, candidate);
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  if (!best) return undefined;
  return best.distance <= Math.max(1, Math.floor(key.length / 3)) ? best.key : undefined;
}

const SECRET = /password|token|secret/i;

function shown(override: EnvOverride): string {
  const last = override.path[override.path.length - 1] ?? '';
  if (SECRET.test(last)) return `${override.variable}=(hidden)`;
  const value = override.value.length > 60 ? `${override.value.slice(0, 57)}…` : override.value;
  return `${override.variable}=${value}`;
}

const dotted = (path: readonly PropertyKey[]) => (path.length ? path.map(String).join('.') : '(root)');

function samePath(a: readonly PropertyKey[], b: readonly PropertyKey[]): boolean {
  return a.length === b.length && a.every((key, i) => String(key) === String(b[i]));
}

function valueAt(config: unknown, path: readonly PropertyKey[]): { parent: unknown; present: boolean } {
  let parent: unknown = config;
  for (const key of path.slice(0, -1)) {
    if (typeof parent !== 'object' || parent === null) return { parent: undefined, present: false };
    parent = (parent as Record<PropertyKey, unknown>)[key];
  }
  const last = path[path.length - 1];
  const present =
    last !== undefined && typeof parent === 'object' && parent !== null && Object.hasOwn(parent, last);
  return { parent, present };
}

export interface DescribedIssue {
  /** `api.port`, or the variable that set it: `OUTPOST_API__PORT=abc`. */
  field: string;
  message: string;
  fromEnvironment: boolean;
}

/**
 * Turns zod's issues into one line each, naming the field, or the environment variable when the value
 * came from one: a missing field is "required", an unknown key names the nearest known one.
 */
export function describeConfigIssues(
  error: z.ZodError,
  options: { schema?: z.ZodType; config?: unknown; overrides?: readonly EnvOverride[] } = {},
): DescribedIssue[] {
  const overrides = options.overrides ?? [];
  const described: DescribedIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = options.schema ? knownKeysAt(options.schema, issue.path) : [];
      for (const key of issue.keys) {
        const override = overrides.find((o) => samePath(o.path, [...issue.path, key]));
        const suggestion = nearestKey(key, known);
        if (override) {
          const hint = suggestion
            ? ` (did you mean ${variableFor([...issue.path.map(String), suggestion])}?)`
            : '';
          described.push({
            field: shown(override),
            message: `names no field of the config${hint}`,
            fromEnvironment: true,
          });
        } else {
          described.push({
            field: dotted([...issue.path, key]),
            message: `unknown key${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
            fromEnvironment: false,
          });
        }
      }
      continue;
    }
    const override = overrides.find(
      (o) => samePath(o.path, issue.path) || samePath(o.path, issue.path.slice(0, o.path.length)),
    );
    const missing =
      issue.code === 'invalid_type' &&
      options.config !== undefined &&
      issue.path.length > 0 &&
      !valueAt(options.config, issue.path).present;
    described.push({
      field: override ? shown(override) : dotted(issue.path),
      message: missing ? 'required' : issue.message,
      fromEnvironment: override !== undefined,
    });
  }
  return described;
}

export interface LoadedConfig<T> {
  config: T;
  overrides: EnvOverride[];
  /**
   * How to name a field in a message: `mqtt.ca`, or `mqtt.ca (set by OUTPOST_MQTT__CA)` when an environment
   * variable gave its value, so the technician looks where the value came from.
   */
  fieldName(path: string): string;
}

/** Reads a JSON config file, applies environment overrides and validates it; every failure is a ConfigError. */
export function loadConfigWithSources<S extends z.ZodType>(
  schema: S,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig<z.infer<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${errorMessage(error)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const { config, overrides } = applyEnvOverrides(raw as Record<string, unknown>, env, 'OUTPOST_', schema);
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    const issues = describeConfigIssues(parsed.error, { schema, config, overrides });
    const lines = issues.map((issue) => `${issue.field}: ${issue.message}`).join('\n  ');
    // Blame the file only for what is in the file: a bad override is the environment's doing.
    const header = issues.every((issue) => issue.fromEnvironment)
      ? `invalid environment override (applied over ${file})`
      : `invalid config in ${file}`;
    throw new ConfigError(`${header}:\n  ${lines}`);
  }
  return {
    config: parsed.data,
    overrides,
    fieldName(path) {
      const override = overrides.find((o) => o.path.join('.') === path);
      return override ? `${path} (set by ${override.variable})` : path;
    },
  };
}

/** Reads a JSON config file, applies environment overrides and validates it; every failure is a ConfigError. */
export function loadConfigFile<S extends z.ZodType>(
  schema: S,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  return loadConfigWithSources(schema, file, env).config;
}
