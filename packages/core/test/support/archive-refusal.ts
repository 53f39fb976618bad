import { InvalidConfigurationError } from '../../src/config-files';

/** Every problem of the error a read throws, one `file: message` line each; fails the test when the read is not refused. */
export function refusal(read: () => unknown): string {
  try {
    read();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    return (e as InvalidConfigurationError).problems.map((p) => `${p.file}: ${p.message}`).join('\n');
  }
  throw new Error('expected the archive to be refused');
}
