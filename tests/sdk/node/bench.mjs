// Per-call time of each Node SDK against a running mock, one client per SDK, calls one after
// another (warm connections): the figures of BENCHMARKS.md, "Node SDKs".
//
//   node bench.mjs --url http://127.0.0.1:8080 --token acme-admin-token [--calls 300]
import { parseArgs } from "node:util";
import { createAccessTokenInterceptor, createManagementClient } from "@zitadel/node/dist/api/index.js";
import { createServerTransport } from "@zitadel/client/node";
import { createManagementServiceClient } from "@zitadel/client/v1";
import { createClientTransport } from "@zitadel/client/web";

const { values: args } = parseArgs({
  options: { url: { type: "string" }, token: { type: "string" }, calls: { type: "string" } },
});
const url = args.url ?? "http://127.0.0.1:8080";
const token = args.token ?? "acme-admin-token";
const calls = Number(args.calls ?? 300);
const user = "259242039378444291";
if (!Number.isInteger(calls) || calls < 10 || calls > 100000) {
  process.stderr.write("--calls must be a whole number from 10 to 100000\n");
  process.exit(2);
}

const clients = {
  "@zitadel/node (gRPC)": () => {
    const management = createManagementClient(url, createAccessTokenInterceptor(token));
    return () => management.listHumanAuthFactors({ userId: user });
  },
  "@zitadel/client (gRPC)": () => {
    const management = createManagementServiceClient(createServerTransport(token, { baseUrl: url }));
    return () => management.listHumanAuthFactors({ userId: user });
  },
  "@zitadel/client (gRPC-web)": () => {
    const management = createManagementServiceClient(createClientTransport(token, { baseUrl: url }));
    return () => management.listHumanAuthFactors({ userId: user });
  },
  "fetch (REST, for comparison)": () => async () => {
    const answer = await fetch(`${url}/management/v1/users/${user}/auth_factors/_search`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    return await answer.json();
  },
};

const rows = [];
for (const [name, make] of Object.entries(clients)) {
  const call = make();
  for (let i = 0; i < 20; i += 1) await call(); // connection, JIT
  const times = [];
  for (let i = 0; i < calls; i += 1) {
    const started = performance.now();
    await call();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  rows.push({ name, median: times[Math.floor(calls / 2)], p90: times[Math.floor(calls * 0.9)] });
}
const base = rows[0].median;
console.log(`${calls} calls of ListHumanAuthFactors each, after 20 to warm up`);
console.log("| client | median ms | p90 ms | median / @zitadel/node's |");
console.log("|---|---|---|---|");
for (const { name, median, p90 } of rows) {
  console.log(`| ${name} | ${median.toFixed(2)} | ${p90.toFixed(2)} | ${(median / base).toFixed(2)} |`);
}
process.exit(0);
