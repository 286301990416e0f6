// What the consumer programs share: reading their options and printing one JSON line.
// The SDK calls themselves live in each program, written as that SDK's users write them.
import { writeSync } from "node:fs";

// The RPCs each program may call: the v1 Management pair, or the three v2 ones.
export const V1_RPCS = ["ListLoginPolicySecondFactors", "ListHumanAuthFactors"];
export const V2_RPCS = ["ListAuthenticationFactors", "ListAuthenticationMethodTypes", "GetLoginSettings"];
// The RPCs that name a user (--user is required for them).
const USER_RPCS = new Set(["ListHumanAuthFactors", "ListAuthenticationFactors", "ListAuthenticationMethodTypes"]);

// Each option and the environment variable read when it is not given.
const OPTIONS = {
  url: "ZITADEL_URL",
  token: "ZITADEL_TOKEN",
  "key-file": "ZITADEL_KEY_FILE",
  org: "ZITADEL_ORG_ID",
  rpc: "ZITADEL_RPC",
  user: "ZITADEL_USER_ID",
  ctx: "ZITADEL_CTX",
  "timeout-ms": "ZITADEL_TIMEOUT_MS",
};

// What a program takes: its RPCs, and how it signs in: a token (optional: without one no
// Authorization header is sent) or a service account's key file (required).
export const TOKEN_V1 = { rpcs: V1_RPCS, credential: "token" };
export const TOKEN_V2 = { rpcs: V2_RPCS, credential: "token" };
export const KEY_FILE_V1 = { rpcs: V1_RPCS, credential: "key-file" };

function optionsOf(program) {
  const names = ["url", program.credential, "org", "rpc", "user", "timeout-ms"];
  if (program.rpcs === V2_RPCS) names.push("ctx");
  return names;
}

export function usage(program = TOKEN_V1) {
  const names = optionsOf(program);
  const credential =
    program.credential === "token" ? "[--token TOKEN]" : "--key-file KEY_FILE.json";
  const ctx = program.rpcs === V2_RPCS ? " [--ctx ORG_ID|instance]" : "";
  const credentialNote =
    program.credential === "token"
      ? "without a token no Authorization header is sent"
      : "the key file is ZITADEL's JSON key of a service user";
  return (
    `usage: node <program>.mjs --url URL --rpc ${program.rpcs.join("|")} ${credential} ` +
    `[--org ORG_ID] [--user USER_ID]${ctx} [--timeout-ms MS]\n` +
    "(or the environment: " +
    names.map((name) => OPTIONS[name]).join(", ") +
    `; an option wins over its variable; ${credentialNote})`
  );
}

export const USAGE = usage(TOKEN_V1);

export class UsageError extends Error {}

// Reads `--name value` / `--name=value` pairs, then the environment for what is missing.
export function readOptions(argv = process.argv.slice(2), env = process.env, program = TOKEN_V1) {
  const known = new Set(optionsOf(program));
  const given = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!known.has(name)) throw new UsageError(`unknown option --${name}`);
    if (eq !== -1) {
      given[name] = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      given[name] = argv[(i += 1)];
    }
  }
  const pick = (name) => (known.has(name) ? given[name] ?? env[OPTIONS[name]] : undefined);
  const url = pick("url");
  if (!url) throw new UsageError("the base URL is missing (--url or ZITADEL_URL)");
  if (!/^https?:\/\/[^/]+\/?$/.test(url)) {
    throw new UsageError(`the base URL must be http(s)://host:port, not ${JSON.stringify(url)}`);
  }
  const rpc = pick("rpc");
  if (!program.rpcs.includes(rpc)) {
    throw new UsageError(`--rpc must be one of ${program.rpcs.join(", ")}, not ${JSON.stringify(rpc)}`);
  }
  const user = pick("user");
  if (USER_RPCS.has(rpc) && user === undefined) {
    throw new UsageError(`${rpc} needs a user id (--user or ZITADEL_USER_ID)`);
  }
  const timeout = pick("timeout-ms");
  let timeoutMs;
  if (timeout !== undefined && timeout !== "") {
    timeoutMs = Number(timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600000) {
      throw new UsageError(`--timeout-ms must be a whole number from 1 to 600000, not ${JSON.stringify(timeout)}`);
    }
  }
  const keyFile = pick("key-file");
  if (program.credential === "key-file" && !keyFile) {
    throw new UsageError("the service user's key file is missing (--key-file or ZITADEL_KEY_FILE)");
  }
  const ctx = pick("ctx") || undefined;
  if (ctx !== undefined && rpc !== "GetLoginSettings") {
    throw new UsageError(`--ctx is GetLoginSettings' only, not ${rpc}'s`);
  }
  if (ctx !== undefined && ctx !== "instance" && !/^[0-9]{1,200}$/.test(ctx)) {
    throw new UsageError(`--ctx must be an organisation id or instance, not ${JSON.stringify(ctx)}`);
  }
  const token = pick("token");
  const org = pick("org");
  return {
    url: url.replace(/\/$/, ""),
    token: token === "" ? undefined : token,
    keyFile,
    org: org === "" ? undefined : org,
    rpc,
    user: user ?? "",
    ctx,
    timeoutMs,
  };
}

// The SDKs' messages hold bigints, Longs, byte arrays and dates, which JSON cannot carry as they are;
// keys starting with `$` are protobuf-es bookkeeping ($typeName), not data.
export function plain(value) {
  if (typeof value === "bigint") return value.toString();
  // long.js (the 64-bit integers of @zitadel/node's messages)
  if (value !== null && typeof value === "object" && value.__isLong__ === true) return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      if (!key.startsWith("$") && item !== undefined) out[key] = plain(item);
    }
    return out;
  }
  return value;
}

// One line on stdout, then exit once it is written (an SDK's idle connection would otherwise
// keep the process alive).
let printed = false;

export function finish(line, exitCode) {
  printed = true;
  process.stdout.write(JSON.stringify(line) + "\n", () => process.exit(exitCode));
}

// Runs `call(options)` and prints its answer, or the error as `describe(error)` tells it
// (undefined: an error that is no call failure of the SDK, printed with its name).
export async function run(call, describe, program = TOKEN_V1) {
  let options;
  try {
    options = readOptions(process.argv.slice(2), process.env, program);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${usage(program)}\n`);
    process.exit(2);
  }
  const started = performance.now();
  // A call whose promise never settles (no deadline, nothing left to wait for) would end the
  // process silently (exit 13): say so instead.
  process.on("exit", () => {
    if (printed) return;
    const ms = Math.round(performance.now() - started);
    const message = "the call never settled: Node had nothing left to wait for";
    writeSync(1, JSON.stringify({ ok: false, code: null, error: "Unsettled", message, ms }) + "\n");
  });
  let line;
  try {
    const result = await call(options);
    line = { ok: true, result: plain(result) };
  } catch (error) {
    const told = describe(error);
    line = told === undefined
      ? { ok: false, code: null, error: error?.name ?? typeof error, message: String(error?.message ?? error) }
      : { ok: false, ...told };
  }
  line.ms = Math.round(performance.now() - started);
  finish(line, line.ok ? 0 : 1);
}
