// @zitadel/client's v2 clients (UserService, SettingsService) over createClientTransport:
// connect-web's gRPC-web transport (binary, over fetch: HTTP/1.1).
//
//   node client-v2-grpcweb.mjs --url http://127.0.0.1:8080 --token acme-admin-token \
//     --rpc ListAuthenticationFactors|ListAuthenticationMethodTypes|GetLoginSettings \
//     [--user ID] [--ctx ORG_ID|instance] [--org ID] [--timeout-ms 2000]
//
// Prints {"ok":true,"result":...} or {"ok":false,"code":N,"message":...,"details":[...]}.
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { createClientTransport } from "@zitadel/client/web";
import { run, TOKEN_V2 } from "./consumer.mjs";
import { callV2, describeConnectError } from "./zitadel-client.mjs";

await run(
  (options) => {
    const transport =
      options.token === undefined
        ? // The SDK always sends its token; without one, the transport it wraps, bare.
          createGrpcWebTransport({ baseUrl: options.url })
        : createClientTransport(options.token, { baseUrl: options.url });
    return callV2(transport, options);
  },
  describeConnectError,
  TOKEN_V2,
);
