// What the two @zitadel/client programs share: the v1 Management client over a transport, and
// the error as connect-es reports it (ConnectError, details decoded with the SDK's own schema).
// @zitadel/client's typings re-export ConnectError, but its JavaScript does not (1.3.1).
import { ConnectError } from "@connectrpc/connect";
import { createManagementServiceClient } from "@zitadel/client/v1";
import { ErrorDetailSchema } from "@zitadel/proto/zitadel/message_pb.js";

export async function callManagement(transport, { org, rpc, user, timeoutMs }) {
  const management = createManagementServiceClient(transport);
  const options = {
    timeoutMs,
    headers: org === undefined ? undefined : { "x-zitadel-orgid": org },
  };
  if (rpc === "ListLoginPolicySecondFactors") {
    return await management.listLoginPolicySecondFactors({}, options);
  }
  return await management.listHumanAuthFactors({ userId: user }, options);
}

export function describeConnectError(error) {
  if (!(error instanceof ConnectError)) return undefined;
  const decoded = error.findDetails(ErrorDetailSchema);
  const details = error.details.map((detail) => {
    const type = "desc" in detail ? detail.desc.typeName : detail.type;
    if (type !== ErrorDetailSchema.typeName) return { type };
    const { id, message } = decoded.shift();
    return { type, id, message };
  });
  return { code: error.code, message: error.rawMessage, details, error: error.name, text: error.message };
}
