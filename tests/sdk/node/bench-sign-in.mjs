// What a service user's sign-in costs @zitadel/node against a running mock: a client with a
// personal access token against one that first signs in with its key file (discovery, then the
// token endpoint with a JWT it signs), one call each, a new client every time (no token reused),
// then calls with a client that has signed in (its token reused). BENCHMARKS.md, "Node SDKs: a
// service user's sign-in".
//
//   node bench-sign-in.mjs --url http://127.0.0.1:8080 --key-file KEY.json [--token acme-admin-token] [--runs 100]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  createAccessTokenInterceptor,
  createManagementClient,
  createServiceAccountInterceptor,
} from "@zitadel/node/dist/api/index.js";
import { ServiceAccount } from "@zitadel/node/dist/credentials/index.js";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string" },
    "key-file": { type: "string" },
    runs: { type: "string" },
  },
});
const url = args.url ?? "http://127.0.0.1:8080";
const token = args.token ?? "acme-admin-token";
const runs = Number(args.runs ?? 100);
if (args["key-file"] === undefined || !Number.isInteger(runs) || runs < 10 || runs > 10000) {
  process.stderr.write("usage: --key-file KEY.json, and --runs a whole number from 10 to 10000\n");
  process.exit(2);
}
const account = ServiceAccount.fromJsonString(readFileSync(args["key-file"], "utf8"));

const cases = {
  "new client, personal access token, one call": () =>
    createManagementClient(url, createAccessTokenInterceptor(token)),
  "new client, service account: sign-in, then one call": () =>
    createManagementClient(url, createServiceAccountInterceptor(url, account, { apiAccess: true })),
};
const signedIn = createManagementClient(url, createServiceAccountInterceptor(url, account, { apiAccess: true }));
cases["signed-in client, one call (token reused)"] = () => signedIn;

const rows = [];
for (const [name, make] of Object.entries(cases)) {
  for (let i = 0; i < 10; i += 1) await make().listLoginPolicySecondFactors({}); // JIT, connections
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await make().listLoginPolicySecondFactors({});
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  rows.push({ name, median: times[Math.floor(runs / 2)], p90: times[Math.floor(runs * 0.9)] });
}
const base = rows[0].median;
console.log(`${runs} runs each, after 10 to warm up`);
console.log("| case | median ms | p90 ms | median / the first row's |");
console.log("|---|---|---|---|");
for (const { name, median, p90 } of rows) {
  console.log(`| ${name} | ${median.toFixed(2)} | ${p90.toFixed(2)} | ${(median / base).toFixed(2)} |`);
}
process.exit(0);
