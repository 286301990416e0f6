// @zitadel/node (nice-grpc on grpc-js): native gRPC, h2c with prior knowledge for http:// URLs.
//
//   node node-grpc.mjs --url http://127.0.0.1:8080 --token acme-admin-token \
//     --rpc ListHumanAuthFactors --user 259242039378444291 [--org ID] [--timeout-ms 2000]
//
// Prints {"ok":true,"result":...} or {"ok":false,"code":N,"message":...,"details":[...]}.
import { createAccessTokenInterceptor } from "@zitadel/node/dist/api/index.js";
import { run } from "./consumer.mjs";
import { callManagement, describeClientError } from "./zitadel-node.mjs";

await run(
  (options) =>
    callManagement(
      options.url,
      options.token === undefined ? [] : [createAccessTokenInterceptor(options.token)],
      options,
    ),
  describeClientError,
);
