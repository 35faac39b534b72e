/** Lambda's layer wire shapes (PublishLayerVersion/GetLayerVersion output, list items) made from records. */
import { lambdaTimestamp } from "../base/index.js";
import { layerArn, layerVersionArn } from "./layer-validation.js";
import type { LayerVersionRecord } from "./types.js";

/** A ListLayerVersions item / ListLayers' LatestMatchingVersion. */
export function toLayerVersionsListItem(v: LayerVersionRecord, region: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    LayerVersionArn: layerVersionArn(region, v.accountId, v.layerName, v.version),
    Version: v.version,
    Description: v.description,
    CreatedDate: lambdaTimestamp(v.createdDate),
  };
  if (v.compatibleRuntimes !== undefined) out.CompatibleRuntimes = v.compatibleRuntimes;
  if (v.licenseInfo !== undefined) out.LicenseInfo = v.licenseInfo;
  if (v.compatibleArchitectures !== undefined) out.CompatibleArchitectures = v.compatibleArchitectures;
  return out;
}

/** PublishLayerVersion / GetLayerVersion / GetLayerVersionByArn output. `location` is a download URL of the package. */
export function toLayerVersion(v: LayerVersionRecord, region: string, location: string): Record<string, unknown> {
  return {
    Content: { Location: location, CodeSha256: v.codeSha256, CodeSize: v.codeSize },
    LayerArn: layerArn(region, v.accountId, v.layerName),
    ...toLayerVersionsListItem(v, region),
  };
}

export function toLayersListItem(name: string, latest: LayerVersionRecord, region: string): Record<string, unknown> {
  return { LayerName: name, LayerArn: layerArn(region, latest.accountId, name), LatestMatchingVersion: toLayerVersionsListItem(latest, region) };
}
