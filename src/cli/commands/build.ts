import type { CommandModule } from 'yargs';
import { jsonText, openCheckpointFile, writeOciArchive, writeOciLayout } from '../../node/index.js';
import { out } from '../io.js';
import { UsageError } from '../usage-error.js';

interface BuildArgs {
  checkpoint: string;
  'image-name': string;
  output?: string;
  'oci-layout'?: string;
  force: boolean;
  format: 'text' | 'json';
}

export const buildCommand: CommandModule<object, BuildArgs> = {
  command: 'build <checkpoint> <image-name>',
  describe: 'Write a checkpoint as an OCI checkpoint image (oci-archive tar or OCI layout directory) that Podman, CRI-O and containerd restore from',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', demandOption: true, describe: 'the checkpoint archive (.tar, gzip or zstd) or directory' })
      .positional('image-name', { type: 'string', demandOption: true, describe: 'the image name, e.g. localhost/counter-checkpoint:latest' })
      .option('output', { alias: 'o', type: 'string', describe: 'write an oci-archive tar to this file' })
      .option('oci-layout', { type: 'string', describe: 'write an OCI image layout into this directory' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing output file, or write into a non-empty directory' })
      .option('format', { type: 'string', choices: ['text', 'json'] as const, default: 'text' as const, describe: 'how to report what was written' })
      .example('$0 build checkpoint.tar localhost/counter:checkpoint -o image.tar', 'then: podman load -i image.tar; podman container restore localhost/counter:checkpoint')
      .example('$0 build checkpoint.tar.zst quay.io/me/app:ckpt --oci-layout ./layout', 'then: skopeo copy oci:./layout docker://quay.io/me/app:ckpt'),
  handler: async (args) => {
    const name = args['image-name'];
    if (!args.output === !args['oci-layout']) throw new UsageError('give exactly one of -o/--output FILE and --oci-layout DIR');
    if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(name) || name.length > 255) throw new UsageError(`--image-name: not an image name: ${JSON.stringify(name)}`);
    const ck = await openCheckpointFile(args.checkpoint);
    try {
      const o = { force: args.force, inputs: [args.checkpoint] };
      const built = args.output ? await writeOciArchive(args.output, ck.source, ck, name, o) : await writeOciLayout(args['oci-layout']!, ck.source, ck, name, o);
      const where = args.output ? `oci-archive ${args.output}` : `OCI layout ${args['oci-layout']}`;
      if (args.format === 'json') {
        await out(jsonText({ image: name, output: args.output ?? null, ociLayout: args['oci-layout'] ?? null, manifest: built.manifest, config: built.config, layer: built.layer, annotations: built.annotations }, 2) + '\n');
      } else {
        await out(`${name}: ${where}\n  manifest ${built.manifest}\n  layer    ${built.layer.digest} (${built.layer.size} bytes)\n${Object.entries(built.annotations).map(([k, v]) => `  ${k}=${v}`).join('\n')}\n`);
      }
    } finally {
      await ck.close();
    }
  },
};
