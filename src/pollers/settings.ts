/** The pollers' view of a function's async settings, read from the control plane's event invoke configs. */
import type { EventInvokeConfigs } from "../control/index.js";
import type { SettingsSource } from "./fleet.js";

export function settingsFromControl(configs: Pick<EventInvokeConfigs, "settings">): SettingsSource {
  return async (t) => {
    const s = await configs.settings(t.accountId, t.functionName, t.qualifier);
    if (!s) return undefined;
    return {
      functionArn: s.functionArn,
      maximumRetryAttempts: s.maximumRetryAttempts,
      maximumEventAgeMs: s.maximumEventAgeInSeconds * 1000,
      ...(s.onSuccess ? { onSuccess: s.onSuccess } : {}),
      ...(s.onFailure ? { onFailure: s.onFailure } : {}),
      ...(s.deadLetterTargetArn ? { deadLetter: s.deadLetterTargetArn } : {}),
    };
  };
}
