// @zitadel/client, createServerTransport: connect-node's gRPC transport, HTTP/2 (h2c for http://).
//
//   node client-grpc.mjs --url http://127.0.0.1:8080 --token acme-admin-token \
//     --rpc ListHumanAuthFactors --user 259242039378444291 [--org ID] [--timeout-ms 2000]
//
// Prints {"ok":true,"result":...} or {"ok":false,"code":N,"message":...,"details":[...]}.
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createServerTransport } from "@zitadel/client/node";
import { run } from "./consumer.mjs";
import { callManagement, describeConnectError } from "./zitadel-client.mjs";

await run((options) => {
  const transport =
    options.token === undefined
      ? // The SDK always sends its token; without one, the transport it wraps, bare.
        createGrpcTransport({ baseUrl: options.url })
      : createServerTransport(options.token, { baseUrl: options.url });
  return callManagement(transport, options);
}, describeConnectError);
