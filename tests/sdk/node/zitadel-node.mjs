// What the two @zitadel/node programs share: the v1 Management client's calls, and the error as
// nice-grpc reports it, with the ErrorDetail read from the trailer.
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { createManagementClient } from "@zitadel/node/dist/api/index.js";
import { ErrorDetail } from "@zitadel/node/dist/api/generated/zitadel/message.js";
import { ClientError, Metadata } from "nice-grpc";
import { deadlineMiddleware } from "nice-grpc-client-middleware-deadline";

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

// Calls `rpc` with a client whose interceptors sign the call in (a token's, a service account's);
// the deadline middleware goes first, as its README asks.
export async function callManagement(url, interceptors, { org, rpc, user, timeoutMs }) {
  const management = createManagementClient(url, deadlineMiddleware, ...interceptors);
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
}

export function describeClientError(error) {
  if (!(error instanceof ClientError)) return undefined;
  const bin = trailer?.get("grpc-status-details-bin");
  return {
    code: error.code,
    message: error.details,
    details: bin === undefined ? [] : statusDetails(bin),
    error: error.name,
    text: error.message,
  };
}
