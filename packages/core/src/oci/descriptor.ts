/** The OCI content descriptor and platform: what manifests, indexes and the referrers API point with. */

/** Where a manifest runs; as in an OCI index's `platform` field. */
export interface OciPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** A reference to a blob or manifest by digest (OCI content descriptor). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: OciPlatform;
  readonly annotations?: Readonly<Record<string, string>>;
}
