/**
 * The `xen` part of a run's configuration: which Xen release the host follows and which XSA
 * patches it applies. Checked up front; refused on a bare-metal run (there is no Xen to set).
 */
import { LabError, describeValue } from '../errors';
import { DEFAULT_XEN_RELEASE, XEN_PATCHES, XEN_RELEASES, xenPatchList, xenReleaseFacts, type XenPatch, type XenRelease } from '../xen/release';

/** `boot({ xen: { release, patches } })` */
export interface XenConfig {
  /** '4.2.0' (default: the report's banner) or '4.2.2' */
  release?: XenRelease;
  /** XSA fixes to apply: 'xsa-148', 'xsa-182' (default none: no 4.2.x release had them) */
  patches?: XenPatch[];
}

export function normalizeXenConfig(xen: unknown, platform: string): { xenRelease: XenRelease; xenPatches: XenPatch[] } {
  if (xen === undefined) return { xenRelease: DEFAULT_XEN_RELEASE, xenPatches: [] };
  if (platform !== 'xen') {
    throw new LabError('BAD_CONFIG', `the config key "xen" applies to platform 'xen' only; this run is on ${JSON.stringify(platform)}`);
  }
  if (typeof xen !== 'object' || xen === null || Array.isArray(xen)) {
    throw new LabError('WRONG_TYPE', `xen must be an object like { release: '4.2.0', patches: ['xsa-148'] }; got ${describeValue(xen)}`);
  }
  const known = ['release', 'patches'];
  for (const key of Object.keys(xen)) {
    if (!known.includes(key)) throw new LabError('BAD_CONFIG', `unknown key ${JSON.stringify(key)} in xen; allowed: ${known.join(', ')}`);
  }
  const x = xen as { release?: unknown; patches?: unknown };
  const facts = xenReleaseFacts('xen.release', x.release ?? DEFAULT_XEN_RELEASE);
  return { xenRelease: facts.release, xenPatches: xenPatchList('xen.patches', x.patches) };
}

export { XEN_RELEASES, XEN_PATCHES };
