/**
 * The starting points `dcf init` writes: a configuration that validates and
 * builds as it is, with comments on what to change.
 */
import type { ArtifactKind } from '@devcontainer-factory/lambdas';

export interface TemplateFile {
  readonly path: string;
  readonly text: string;
  readonly executable: boolean;
}

function imageTemplate(id: string): TemplateFile[] {
  return [
    {
      path: '.devcontainer/devcontainer.json',
      executable: false,
      text: `// The ${id} image, built by devcontainer-factory. The devcontainer CLI reads this file:
// JSON with comments and trailing commas, https://containers.dev/implementors/json_reference/
{
  "name": "${id}",
  // The base image. To build from a Dockerfile instead, replace "image" with
  // "build": { "dockerfile": "Dockerfile" } and add .devcontainer/Dockerfile.
  "image": "mcr.microsoft.com/devcontainers/base:bookworm",
  // Features to install on top, e.g. "ghcr.io/devcontainers/features/node:1": { "version": "lts" }
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
# Runs inside the built image in the Test stage, once per architecture.
# A non-zero exit fails the pipeline, and no release tag moves.
set -eu

check() {
  echo "checking: $1"
  shift
  "$@" >/dev/null
}

check "git is installed" git --version
check "the user has a home folder" test -d "$HOME"

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

/** The files of a new image or feature called `id`. */
export function templateFiles(kind: ArtifactKind, id: string): TemplateFile[] {
  return kind === 'image' ? imageTemplate(id) : featureTemplate(id);
}
