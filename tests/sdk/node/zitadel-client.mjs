// What the @zitadel/client programs share: the v1 Management client and the v2 User and Settings
// clients over a transport, and the error as connect-es reports it (ConnectError, details decoded
// with the SDK's own schema).
// @zitadel/client's typings re-export ConnectError, but its JavaScript does not (1.3.1).
import { ConnectError } from "@connectrpc/connect";
import { createManagementServiceClient } from "@zitadel/client/v1";
import { createSettingsServiceClient, createUserServiceClient, makeReqCtx } from "@zitadel/client/v2";
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

// `ctx`: GetLoginSettings' request context, built with the SDK's own helper (an org id, or
// "instance"); without it the organisation in context decides, as on ZITADEL.
export async function callV2(transport, { org, rpc, user, ctx, timeoutMs }) {
  const options = {
    timeoutMs,
    headers: org === undefined ? undefined : { "x-zitadel-orgid": org },
  };
  if (rpc === "GetLoginSettings") {
    const settings = createSettingsServiceClient(transport);
    const request = ctx === undefined ? {} : { ctx: makeReqCtx(ctx === "instance" ? undefined : ctx) };
    return await settings.getLoginSettings(request, options);
  }
  const users = createUserServiceClient(transport);
  if (rpc === "ListAuthenticationFactors") {
    return await users.listAuthenticationFactors({ userId: user }, options);
  }
  return await users.listAuthenticationMethodTypes({ userId: user }, options);
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
