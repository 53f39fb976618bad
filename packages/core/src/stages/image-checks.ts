/**
 * What the Test stage of an image checks, defined once. The cloud Test buildspec
 * turns each check into shell commands (Docker and the devcontainer CLI on CodeBuild);
 * `dcf local` turns each into registry reads and buildah commands. Both implement a
 * `Record<ImageCheckId, …>` and run the checks in the order of {@link IMAGE_CHECKS},
 * so a check added here fails to compile until both sides run it.
 */
import { IMAGE_TEST_SCRIPT } from '../config/devcontainer-json';

/** The label the devcontainer CLI writes into every image it builds: a JSON array of metadata entries. */
export const DEVCONTAINER_METADATA_LABEL = 'devcontainer.metadata';

/** One check of the Test stage. */
export interface ImageCheck {
  /** Stable, kebab-case: the key both implementations use. */
  readonly id: string;
  /** A few words, for logs and stage details. */
  readonly title: string;
  /** What passing the check proves, in one sentence. */
  readonly verifies: string;
}

/** The Test stage's checks, in the order they run; the first that fails stops the stage. */
export const IMAGE_CHECKS = [
  {
    id: 'platform',
    title: 'platform of the pulled image',
    verifies: 'the build pulled through the index for the platform is an image of that os/architecture, so the index points at the right manifest',
  },
  {
    id: 'runs',
    title: 'the image runs a command',
    verifies: "the image starts a process and `uname -m` in it prints the platform's machine (x86_64, aarch64)",
  },
  {
    id: 'metadata-label',
    title: `${DEVCONTAINER_METADATA_LABEL} label`,
    verifies: `the image carries the ${DEVCONTAINER_METADATA_LABEL} label and it parses as a JSON array, so it was built by the devcontainer CLI`,
  },
  {
    id: 'test-script',
    title: IMAGE_TEST_SCRIPT,
    verifies: `when the configuration has ${IMAGE_TEST_SCRIPT}, it exits 0 in test-project/ inside the image started as a dev container (devcontainer up, then exec)`,
  },
] as const satisfies readonly ImageCheck[];

/** The id of a check of {@link IMAGE_CHECKS}. */
export type ImageCheckId = (typeof IMAGE_CHECKS)[number]['id'];
