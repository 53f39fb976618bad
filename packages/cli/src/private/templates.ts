/**
 * The starting points `dcf init` writes: a configuration that validates and
 * builds as it is, with comments on what to change.
 */
import { FACTORY_VARIABLES, idProblem, type ArtifactKind } from '@devcontainer-factory/core';

export interface TemplateFile {
  readonly path: string;
  readonly text: string;
  readonly executable: boolean;
}

/** The factory image a new image configuration is built on unless `--base` says otherwise. */
export const DEFAULT_IMAGE_BASE = 'base';

/** The image a configuration starts from, as `dcf init image --base` takes it and as it writes it. */
export interface ImageBase {
  /** What goes into `"image"`. */
  readonly image: string;
  /** The factory image it names (its catalogue entry needs `dependsOn: [id]`), when it is one. */
  readonly factoryImage?: string;
}

/**
 * `--base`: the id of one of this factory's images becomes the portable reference to its
 * `latest` (`${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/<id>:latest`, which
 * names the factory's registry both in `dcf local` and in the cloud); anything else is a
 * full image reference, written as it is.
 */
export function imageBase(base: string = DEFAULT_IMAGE_BASE): ImageBase {
  if (idProblem(base, 'image id') === undefined) {
    return { image: `\${localEnv:${FACTORY_VARIABLES.registry}}/\${localEnv:${FACTORY_VARIABLES.namespace}}/images/${base}:latest`, factoryImage: base };
  }
  return { image: base };
}

function imageComment(id: string, base: ImageBase): string {
  if (base.factoryImage) {
    return `  // The base image: this factory's own "${base.factoryImage}" image. The factory sets
  // DCF_REGISTRY (localhost:PORT in \`dcf local\`, <account>.dkr.ecr.<region>.amazonaws.com
  // in the cloud) and DCF_NAMESPACE wherever it builds, so this builds in both. Give
  // "${id}" \`dependsOn: [${base.factoryImage}]\` in the catalogue, so that it is built after
  // ${base.factoryImage} and again when ${base.factoryImage} moves. To start from a public image
  // instead (in the cloud), write its reference, e.g. "mcr.microsoft.com/devcontainers/base:bookworm".`;
  }
  return `  // The base image, pulled as it is written (\`dcf local\` is offline: there, build on
  // one of the factory's images, "\${localEnv:DCF_REGISTRY}/\${localEnv:DCF_NAMESPACE}/images/<id>:latest").`;
}

function imageTemplate(id: string, base: ImageBase): TemplateFile[] {
  return [
    {
      path: '.devcontainer/devcontainer.json',
      executable: false,
      text: `// The ${id} image, built by devcontainer-factory. The devcontainer CLI reads this file:
// JSON with comments and trailing commas, https://containers.dev/implementors/json_reference/
{
  "name": "${id}",
${imageComment(id, base)}
  // To build from a Dockerfile instead, replace "image" with
  // "build": { "dockerfile": "Dockerfile" } and add .devcontainer/Dockerfile.
  "image": ${JSON.stringify(base.image)},
  // Features to install on top, e.g. "ghcr.io/devcontainers/features/node:1": { "version": "lts" },
  // or one of this factory's: "\${localEnv:DCF_REGISTRY}/\${localEnv:DCF_NAMESPACE}/features/<id>:1": {}
  "features": {},
  "customizations": {
    "devcontainer-factory": {
      // Release tags X.Y.Z, X.Y and X come from this version: bump it for every release.
      "version": "0.1.0"
    }
  }
}
`,
    },
    {
      path: 'test-project/test.sh',
      executable: true,
      text: `#!/bin/sh
# Runs inside the built image in the Test stage, once per architecture, with the
# image's own /bin/sh (POSIX sh: busybox in the example base image).
# A non-zero exit fails the pipeline, and no release tag moves.
set -eu

check() {
  echo "checking: $1"
  shift
  "$@" >/dev/null
}

check "the shell works" test -x /bin/sh
check "the user has an id" id -u
check "/tmp is writable" test -w /tmp
# Add a check for each thing the image installs, e.g.
# check "git is installed" git --version

echo "all checks passed"
`,
    },
  ];
}

function featureTemplate(id: string): TemplateFile[] {
  const metadata = {
    id,
    version: '0.1.0',
    name: id,
    description: `Installs the ${id} command.`,
    options: {
      greeting: { type: 'string', default: 'hello', description: `What ${id} prints.` },
    },
  };
  return [
    { path: 'devcontainer-feature.json', executable: false, text: `${JSON.stringify(metadata, null, 2)}\n` },
    {
      path: 'install.sh',
      executable: true,
      text: `#!/bin/sh
# Runs as root while the image is built. Options arrive as environment
# variables named after them in upper case (greeting -> GREETING).
set -eu

GREETING="\${GREETING:-hello}"

cat > /usr/local/bin/${id} <<SCRIPT
#!/bin/sh
echo "\${GREETING} from ${id}"
SCRIPT
chmod 0755 /usr/local/bin/${id}
`,
    },
    {
      path: 'test/test.sh',
      executable: true,
      text: `#!/bin/bash
# Run by "devcontainer features test" in a container with the feature
# installed with its default options.
set -e

source dev-container-features-test-lib

check "${id} is on the PATH" command -v ${id}
check "${id} prints the default greeting" bash -c "${id} | grep 'hello from ${id}'"

reportResults
`,
    },
  ];
}

/** The files of a new image (on `base`, see {@link imageBase}) or feature called `id`. */
export function templateFiles(kind: ArtifactKind, id: string, base: ImageBase = imageBase()): TemplateFile[] {
  return kind === 'image' ? imageTemplate(id, base) : featureTemplate(id);
}

/** The base image a new catalogue builds everything on: busybox, which builds offline in `dcf local` and through the ECR Public cache in the cloud. */
const CATALOG_BASE_ID = 'base';

function baseImageFiles(): TemplateFile[] {
  return [
    {
      path: '.devcontainer/devcontainer.json',
      executable: false,
      text: `// The base image of this catalogue: busybox on nothing, the smallest devcontainer image
// that builds offline. Replace the Dockerfile's FROM with the base you want (through a
// pull-through cache of the factory's registry, so the cloud builds pull nothing anonymously).
{
  "name": "${CATALOG_BASE_ID}",
  "build": {
    "dockerfile": "Dockerfile",
    // The factory's registry and namespace: localhost:PORT and the catalogue's namespace in
    // \`dcf local\`, the account's ECR registry in the cloud.
    "args": { "FACTORY_REGISTRY": "\${localEnv:${FACTORY_VARIABLES.registry}}", "FACTORY_NAMESPACE": "\${localEnv:${FACTORY_VARIABLES.namespace}}" }
  },
  "remoteUser": "root",
  "customizations": {
    "devcontainer-factory": { "version": "1.0.0" }
  }
}
`,
    },
    {
      path: '.devcontainer/Dockerfile',
      executable: false,
      text: `# busybox from ECR Public (public.ecr.aws/docker/library/busybox), through the factory's
# pull-through cache <namespace>/ecr-public/. Offline, \`dcf local\` serves Debian's
# busybox-static there instead.
ARG FACTORY_REGISTRY
ARG FACTORY_NAMESPACE=devcontainers
FROM \${FACTORY_REGISTRY}/\${FACTORY_NAMESPACE}/ecr-public/docker/library/busybox:latest
# What a devcontainer base needs besides a shell: a user database with root (the
# devcontainer CLI looks up the remote user's home when it installs features) and a
# world-writable /tmp.
RUN mkdir -p /etc /root /tmp /workspaces \\
 && chmod 1777 /tmp \\
 && echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd \\
 && echo "root:x:0:" > /etc/group
CMD ["/bin/sh"]
`,
    },
    {
      path: 'test-project/test.sh',
      executable: true,
      text: `#!/bin/sh
# Runs inside the built image, in a copy of test-project/, once per architecture.
set -eu
test -x /bin/sh
test "$(whoami)" = root
test -d /tmp -a -w /tmp
echo "${CATALOG_BASE_ID}: ok on $(uname -m)"
`,
    },
  ];
}

/**
 * A catalogue that builds on its own, anywhere: `catalog.yaml`, the base image
 * `images/base` (busybox, see {@link baseImageFiles}) and the image `images/<image>` on it
 * (`dependsOn: [base]`), for `dcf local run <dir>/catalog.yaml` and `nx deploy factory -c catalog=…`.
 */
export function catalogTemplateFiles(image: string): TemplateFile[] {
  const catalog = `# A devcontainer-factory catalogue: \`dcf local run catalog.yaml\` builds, tests and releases
# it into a local registry (offline); \`nx deploy factory -c catalog=<this file>\` makes its
# pipelines in AWS. Each image's configuration is in images/<id>/, each feature's in features/<id>/.
namespace: devcontainers
images:
  - id: ${CATALOG_BASE_ID}
    releaseTags: [latest, semver, date]
  - id: ${image}
    dependsOn: [${CATALOG_BASE_ID}]
    releaseTags: [latest, semver]
features: []
`;
  const under =
    (dir: string) =>
    (f: TemplateFile): TemplateFile => ({ ...f, path: `${dir}/${f.path}` });
  return [
    { path: 'catalog.yaml', executable: false, text: catalog },
    ...baseImageFiles().map(under(`images/${CATALOG_BASE_ID}`)),
    ...imageTemplate(image, imageBase(CATALOG_BASE_ID)).map(under(`images/${image}`)),
  ];
}
