// @zitadel/node signing in as a service user with its key file (JWT profile): the SDK's
// interceptor discovers the token endpoint from the URL (openid-client), posts a JWT it signs
// with the key (axios), then calls native gRPC with the access token it got.
//
//   node node-service-account.mjs --url http://127.0.0.1:8080 --key-file 259242039378444295.json \
//     --rpc ListHumanAuthFactors --user 259242039378444291 [--org ID] [--timeout-ms 2000]
//
// Prints {"ok":true,"result":...}, {"ok":false,"code":N,"message":...,"details":[...]} for a
// failed call, or {"ok":false,"code":null,"error":"AxiosError","status":N,"body":...} for a
// refused sign-in (status null: no answer).
import { readFileSync } from "node:fs";
import { createServiceAccountInterceptor } from "@zitadel/node/dist/api/index.js";
import { ServiceAccount } from "@zitadel/node/dist/credentials/index.js";
import { KEY_FILE_V1, run } from "./consumer.mjs";
import { callManagement, describeClientError } from "./zitadel-node.mjs";

await run(
  (options) => {
    const account = ServiceAccount.fromJsonString(readFileSync(options.keyFile, "utf8"));
    // The audience is the issuer, which is the API's URL; apiAccess asks for the scope
    // urn:zitadel:iam:org:project:id:zitadel:aud, without which the API refuses the token.
    const signIn = createServiceAccountInterceptor(options.url, account, { apiAccess: true });
    return callManagement(options.url, [signIn], options);
  },
  (error) => {
    // The token endpoint's refusal, or a network failure on the way to it, as axios reports it:
    // the interceptor lets it through as is. `axiosCode`: axios's code (ERR_BAD_RESPONSE,
    // ECONNRESET, ...).
    if (error?.isAxiosError === true) {
      return {
        code: null,
        error: "AxiosError",
        axiosCode: error.code ?? null,
        message: error.message,
        status: error.response?.status ?? null,
        body: error.response?.data ?? null,
      };
    }
    return describeClientError(error);
  },
  KEY_FILE_V1,
);
