// @zitadel/client's v2 clients (UserService, SettingsService) over createServerTransport:
// connect-node's gRPC transport, HTTP/2 (h2c for http://).
//
//   node client-v2-grpc.mjs --url http://127.0.0.1:8080 --token acme-admin-token \
//     --rpc ListAuthenticationFactors|ListAuthenticationMethodTypes|GetLoginSettings \
//     [--user ID] [--ctx ORG_ID|instance] [--org ID] [--timeout-ms 2000]
//
// Prints {"ok":true,"result":...} or {"ok":false,"code":N,"message":...,"details":[...]}.
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createServerTransport } from "@zitadel/client/node";
import { run, TOKEN_V2 } from "./consumer.mjs";
import { callV2, describeConnectError } from "./zitadel-client.mjs";

await run(
  (options) => {
    const transport =
      options.token === undefined
        ? // The SDK always sends its token; without one, the transport it wraps, bare.
          createGrpcTransport({ baseUrl: options.url })
        : createServerTransport(options.token, { baseUrl: options.url });
    return callV2(transport, options);
  },
  describeConnectError,
  TOKEN_V2,
);
