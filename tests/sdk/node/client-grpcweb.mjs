// @zitadel/client, createClientTransport: connect-web's gRPC-web transport (binary, over fetch:
// HTTP/1.1).
//
//   node client-grpcweb.mjs --url http://127.0.0.1:8080 --token acme-admin-token \
//     --rpc ListHumanAuthFactors --user 259242039378444291 [--org ID] [--timeout-ms 2000]
//
// Prints {"ok":true,"result":...} or {"ok":false,"code":N,"message":...,"details":[...]}.
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { createClientTransport } from "@zitadel/client/web";
import { run } from "./consumer.mjs";
import { callManagement, describeConnectError } from "./zitadel-client.mjs";

await run((options) => {
  const transport =
    options.token === undefined
      ? // The SDK always sends its token; without one, the transport it wraps, bare.
        createGrpcWebTransport({ baseUrl: options.url })
      : createClientTransport(options.token, { baseUrl: options.url });
  return callManagement(transport, options);
}, describeConnectError);
