import { MEDIA_TYPES } from '../../src/oci/registry';
import { ReleaseRulesError, releaseImage } from '../../src/image/release';
import { promotionSummary, releaseRulesOf, runReleaseStage, type ReleaseStageInput } from '../../src/stages/release-stage';
import { tagSnapshot, useLocalRegistry } from '@devcontainer-factory/testing';

// The Release stage as the Lambda and `dcf local` both run it: the refusal of rules that
// give a build no tag holds for both, before anything is promoted or tagged. Against a
// real registry, which promotion needs (it mounts blobs across repositories).

const live = useLocalRegistry();

let n = 0;
let REPO = '';
let STAGING = '';
beforeEach(() => {
  n += 1;
  REPO = `acme/images/python${n}`;
  STAGING = `acme/builds/python${n}`;
});
const NOW = new Date('2025-05-01T12:00:00Z');
const GATE_OFF = 'vulnerability gate off (the staging repository is not scanned)';

/** Puts an (empty) index under `<buildId>` in staging, as Manifest leaves it; returns its digest. */
async function staged(buildId: string): Promise<string> {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [], annotations: { build: buildId } }));
  return live.registry.putManifest(STAGING, buildId, MEDIA_TYPES.ociIndex, body);
}

const stage = (buildId: string, more: Partial<ReleaseStageInput> = {}): ReleaseStageInput => ({
  repository: REPO,
  staging: STAGING,
  buildId,
  rules: ['latest', 'semver', 'date'],
  now: NOW,
  gateOff: GATE_OFF,
  ...more,
});

describe('runReleaseStage', () => {
  test('GIVEN a tested build THEN it is promoted and tagged, and the outputs and summary say so', async () => {
    const digest = await staged('b1');

    const { result, outputVariables, summary, detail } = await runReleaseStage(live.registry, stage('b1', { version: '1.2.3' }));

    expect(result.tags).toEqual(['1.2.3', '1.2', '1', 'latest', '20250501']);
    expect(await tagSnapshot(live.registry, REPO)).toMatchObject({ '1.2.3': digest, latest: digest, b1: digest });
    expect(outputVariables).toEqual({ Digest: digest, Tags: '1.2.3,1.2,1,latest,20250501', Moved: '1.2.3,1.2,1,latest,20250501' });
    expect(summary).toBe(`${REPO}:b1 (${digest}) ${detail}`);
    expect(detail).toBe(
      `promoted from ${STAGING} (blobs: 0 mounted, 0 copied, 0 present), released as 1.2.3,1.2,1,latest,20250501; moved 1.2.3, 1.2, 1, latest, 20250501; ${GATE_OFF}`,
    );
  });

  test.each<[string, Partial<ReleaseStageInput>, RegExp]>([
    [
      'only the semver rule and no version',
      { rules: ['semver'] },
      /rules \(semver\) give build b2 no tag: the 'semver' rule needs a version: set customizations\['devcontainer-factory'\]\.version/,
    ],
    ['no rule at all', { rules: [] }, /rules \(none\) give build b2 no tag: add a release tag rule in the catalogue/],
    [
      'only latest, for a back-port below the newest release',
      { rules: ['latest'], version: '1.0.0' },
      /rules \(latest\) give build b2 no tag: a newer version is released, so neither latest nor the date tag moves back/,
    ],
  ])('GIVEN %s THEN the stage fails before anything is promoted or tagged', async (_name, more, message) => {
    // GIVEN a newer release in the repository, and a tested build in staging
    await staged('b1');
    await releaseImage(live.registry, REPO, {
      buildId: 'b1',
      staging: STAGING,
      version: '2.0.0',
      rules: releaseRulesOf(['latest', 'semver', 'date']),
      now: NOW,
    });
    await staged('b2');
    const before = await tagSnapshot(live.registry, REPO);

    // WHEN
    const releasing = runReleaseStage(live.registry, stage('b2', more));

    // THEN
    await expect(releasing).rejects.toThrow(ReleaseRulesError);
    await expect(releasing).rejects.toThrow(message);
    await expect(releasing).rejects.toThrow(/; nothing was promoted and no tag moved$/);
    expect(await tagSnapshot(live.registry, REPO)).toEqual(before);
    expect(before.b2).toBeUndefined();
  });

  test('the rule names map to the rules, and the promotion is said in a few words', () => {
    expect(releaseRulesOf(['date'])).toEqual({ latest: false, semver: false, date: true });
    expect(promotionSummary(undefined, STAGING)).toBe('already in the release repository');
    expect(
      promotionSummary({ digest: 'sha256:x', alreadyPromoted: true, manifests: [], blobs: { mounted: 0, copied: 0, present: 0 }, referrers: 0 }, STAGING),
    ).toBe(`promoted from ${STAGING} before`);
    expect(
      promotionSummary({ digest: 'sha256:x', alreadyPromoted: false, manifests: [], blobs: { mounted: 3, copied: 1, present: 2 }, referrers: 1 }, STAGING),
    ).toBe(`promoted from ${STAGING} (blobs: 3 mounted, 1 copied, 2 present; 1 referrer)`);
  });
});
