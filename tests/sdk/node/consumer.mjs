// What the three consumer programs share: reading their options and printing one JSON line.
// The SDK calls themselves live in each program, written as that SDK's users write them.
import { writeSync } from "node:fs";

const RPCS = new Set(["ListLoginPolicySecondFactors", "ListHumanAuthFactors"]);

const OPTIONS = {
  url: "ZITADEL_URL",
  token: "ZITADEL_TOKEN",
  org: "ZITADEL_ORG_ID",
  rpc: "ZITADEL_RPC",
  user: "ZITADEL_USER_ID",
  "timeout-ms": "ZITADEL_TIMEOUT_MS",
};

export const USAGE =
  "usage: node <program>.mjs --url URL --rpc ListLoginPolicySecondFactors|ListHumanAuthFactors " +
  "[--token TOKEN] [--org ORG_ID] [--user USER_ID] [--timeout-ms MS]\n" +
  "(or the environment: " +
  Object.values(OPTIONS).join(", ") +
  "; an option wins over its variable; without a token no Authorization header is sent)";

export class UsageError extends Error {}

// Reads `--name value` / `--name=value` pairs, then the environment for what is missing.
export function readOptions(argv = process.argv.slice(2), env = process.env) {
  const given = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!(name in OPTIONS)) throw new UsageError(`unknown option --${name}`);
    if (eq !== -1) {
      given[name] = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      given[name] = argv[(i += 1)];
    }
  }
  const pick = (name) => given[name] ?? env[OPTIONS[name]];
  const url = pick("url");
  if (!url) throw new UsageError("the base URL is missing (--url or ZITADEL_URL)");
  if (!/^https?:\/\/[^/]+\/?$/.test(url)) {
    throw new UsageError(`the base URL must be http(s)://host:port, not ${JSON.stringify(url)}`);
  }
  const rpc = pick("rpc");
  if (!RPCS.has(rpc)) {
    throw new UsageError(`--rpc must be one of ${[...RPCS].join(", ")}, not ${JSON.stringify(rpc)}`);
  }
  const user = pick("user");
  if (rpc === "ListHumanAuthFactors" && user === undefined) {
    throw new UsageError("ListHumanAuthFactors needs a user id (--user or ZITADEL_USER_ID)");
  }
  const timeout = pick("timeout-ms");
  let timeoutMs;
  if (timeout !== undefined && timeout !== "") {
    timeoutMs = Number(timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600000) {
      throw new UsageError(`--timeout-ms must be a whole number from 1 to 600000, not ${JSON.stringify(timeout)}`);
    }
  }
  const token = pick("token");
  const org = pick("org");
  return {
    url: url.replace(/\/$/, ""),
    token: token === "" ? undefined : token,
    org: org === "" ? undefined : org,
    rpc,
    user: user ?? "",
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
export async function run(call, describe) {
  let options;
  try {
    options = readOptions();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
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
