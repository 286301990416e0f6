// @zitadel/node (nice-grpc on grpc-js): native gRPC, h2c with prior knowledge for http:// URLs.
//
//   node node-grpc.mjs --url http://127.0.0.1:8080 --token acme-admin-token \
//     --rpc ListHumanAuthFactors --user 259242039378444291 [--org ID] [--timeout-ms 2000]
//
// Prints {"ok":true,"result":...} or {"ok":false,"code":N,"message":...,"details":[...]}.
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { createAccessTokenInterceptor, createManagementClient } from "@zitadel/node/dist/api/index.js";
import { ErrorDetail } from "@zitadel/node/dist/api/generated/zitadel/message.js";
import { ClientError, Metadata } from "nice-grpc";
import { deadlineMiddleware } from "nice-grpc-client-middleware-deadline";
import { run } from "./consumer.mjs";

// nice-grpc reports the code and the message only; the details travel in the trailer
// `grpc-status-details-bin`, a google.rpc.Status that the SDK ships no type for.
function statusDetails(bytes) {
  const reader = new BinaryReader(bytes);
  const details = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== 3) {
      reader.skip(wireType);
      continue;
    }
    const any = new BinaryReader(reader.bytes());
    let type = "";
    let value = new Uint8Array();
    while (any.pos < any.len) {
      const [anyField, anyWireType] = any.tag();
      if (anyField === 1) type = any.string();
      else if (anyField === 2) value = any.bytes();
      else any.skip(anyWireType);
    }
    type = type.slice(type.lastIndexOf("/") + 1);
    details.push(type === "zitadel.v1.ErrorDetail" ? { type, ...ErrorDetail.decode(value) } : { type });
  }
  return details;
}

let trailer;

await run(
  async ({ url, token, org, rpc, user, timeoutMs }) => {
    const interceptors = [deadlineMiddleware];
    if (token !== undefined) interceptors.push(createAccessTokenInterceptor(token));
    const management = createManagementClient(url, ...interceptors);
    const options = {
      metadata: org === undefined ? Metadata() : Metadata({ "x-zitadel-orgid": org }),
      deadline: timeoutMs === undefined ? undefined : new Date(Date.now() + timeoutMs),
      onTrailer: (metadata) => {
        trailer = metadata;
      },
    };
    if (rpc === "ListLoginPolicySecondFactors") {
      return await management.listLoginPolicySecondFactors({}, options);
    }
    return await management.listHumanAuthFactors({ userId: user }, options);
  },
  (error) => {
    if (!(error instanceof ClientError)) return undefined;
    const bin = trailer?.get("grpc-status-details-bin");
    return {
      code: error.code,
      message: error.details,
      details: bin === undefined ? [] : statusDetails(bin),
      error: error.name,
      text: error.message,
    };
  },
);
