import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type { ComputeSize, PlatformName } from '../image-pipeline-options';

/** How one platform is built and tested natively: which CodeBuild image, what `uname -m` says. */
export interface PlatformHardware {
  readonly platform: PlatformName;
  /** The per-arch tag suffix and the Go architecture name: `amd64`, `arm64`. */
  readonly arch: 'amd64' | 'arm64';
  /** What `uname -m` prints inside a container of this platform. */
  readonly machine: 'x86_64' | 'aarch64';
  /** PascalCase, for construct ids and action names. */
  readonly label: 'Amd64' | 'Arm64';
  /** Amazon Linux 2023 standard images of CodeBuild: Docker with buildx, Node.js 22, AWS CLI. */
  readonly buildImage: codebuild.IBuildImage;
}

const HARDWARE: Readonly<Record<PlatformName, PlatformHardware>> = {
  'linux/amd64': {
    platform: 'linux/amd64',
    arch: 'amd64',
    machine: 'x86_64',
    label: 'Amd64',
    buildImage: codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5,
  },
  'linux/arm64': {
    platform: 'linux/arm64',
    arch: 'arm64',
    machine: 'aarch64',
    label: 'Arm64',
    buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
  },
};

export function platformHardware(platform: PlatformName): PlatformHardware {
  return HARDWARE[platform];
}

const COMPUTE_TYPES: Readonly<Record<ComputeSize, codebuild.ComputeType>> = {
  small: codebuild.ComputeType.SMALL,
  medium: codebuild.ComputeType.MEDIUM,
  large: codebuild.ComputeType.LARGE,
  xlarge: codebuild.ComputeType.X_LARGE,
  '2xlarge': codebuild.ComputeType.X2_LARGE,
};

export function computeType(size: ComputeSize): codebuild.ComputeType {
  return COMPUTE_TYPES[size];
}
