import { type ErrorCode, FerryError } from "./errors.js";
import { MAX_PATH_BYTES, MAX_SIZE } from "./limits.js";

/** A check takes an untrusted value and returns it typed, or throws a FerryError naming the field. */
export type Check<T> = (value: unknown, field: string) => T;

function fail(field: string, expected: string, code: ErrorCode = "EPROTO"): never {
  throw new FerryError(code, `field "${field}" must be ${expected}`, { field });
}

export const string: Check<string> = (v, f) => (typeof v === "string" ? v : fail(f, "a string"));

export const boolean: Check<boolean> = (v, f) => (typeof v === "boolean" ? v : fail(f, "true or false"));

/** A whole number in [min, max]; rejects NaN, fractions, negatives and anything past 2^53−1. */
export function integer(min = 0, max = MAX_SIZE): Check<number> {
  return (v, f) =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max
      ? v + 0 // JSON "-0" parses to -0; the message carries a plain 0
      : fail(f, `an integer from ${min} to ${max}`);
}

export const size = integer(0, MAX_SIZE);

/** Lower-case hex of exactly `length` digits (md5: 32, a 32-byte challenge: 64). */
export function hex(length: number): Check<string> {
  const pattern = new RegExp(`^[0-9a-f]{${length}}$`);
  return (v, f) =>
    typeof v === "string" && pattern.test(v) ? v : fail(f, `${length} lower-case hex digits`);
}

export const md5Hex = hex(32);

export function oneOf<const T extends readonly string[]>(values: T): Check<T[number]> {
  return (v, f) =>
    typeof v === "string" && (values as readonly string[]).includes(v)
      ? (v as T[number])
      : fail(f, `one of ${values.join(", ")}`);
}

export function literal<const T extends string | boolean>(value: T): Check<T> {
  return (v, f) => (v === value ? value : fail(f, JSON.stringify(value)));
}

const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * The wire-level shape of a path: a non-empty string without NUL, at most 4096 UTF-8 bytes.
 * Where a path points (`..`, symlinks, the root) is the server sandbox's business, not this one's.
 */
export const path: Check<string> = (v, f) => {
  if (typeof v !== "string") fail(f, "a string");
  if (v.length === 0) fail(f, "a non-empty path", "EBADPATH");
  if (v.includes("\0")) fail(f, "a path without NUL bytes", "EBADPATH");
  // A lone surrogate (JSON allows "\ud800") has no UTF-8 form, so it cannot name a file.
  if (LONE_SURROGATE.test(v)) fail(f, "valid Unicode (no lone surrogates)", "EBADPATH");
  if (Buffer.byteLength(v, "utf8") > MAX_PATH_BYTES) fail(f, `at most ${MAX_PATH_BYTES} bytes`, "EBADPATH");
  return v;
};

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, f) => (v === undefined ? undefined : check(v, f));
}

export function arrayOf<T>(check: Check<T>): Check<T[]> {
  return (v, f) => (Array.isArray(v) ? v.map((item, i) => check(item, `${f}[${i}]`)) : fail(f, "an array"));
}

type Shape = Record<string, Check<unknown>>;
type Out<S extends Shape, K extends keyof S> = ReturnType<S[K]>;
/** Fields whose check may yield undefined (`optional(...)`) become optional keys, so literals may omit them. */
type Parsed<S extends Shape> = {
  [K in keyof S as undefined extends Out<S, K> ? never : K]: Out<S, K>;
} & {
  [K in keyof S as undefined extends Out<S, K> ? K : never]?: Out<S, K>;
} extends infer P
  ? { [K in keyof P]: P[K] }
  : never;

/**
 * Checks the fields a shape names and copies only those, so unknown fields from a newer peer are
 * ignored rather than passed along.
 */
export function object<S extends Shape>(shape: S): Check<Parsed<S>> {
  const fields = Object.entries(shape);
  return (v, f) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(f, "a JSON object");
    const source = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, check] of fields) {
      const value = check(source[key], f ? `${f}.${key}` : key);
      if (value !== undefined) out[key] = value;
    }
    return out as Parsed<S>;
  };
}
