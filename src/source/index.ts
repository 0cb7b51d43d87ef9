/** source layer, runtime-neutral part: the contract, tar reading, in-memory sources. */
export type { CheckpointSource, SourceEntry } from './types.js';
export { MemorySource, tarBytesSource, imageBytesSource, readFiles, collectBody, WHOLE_FILE_LIMIT, pullFiles, type PulledChunk } from './memory.js';
export { detectFormat, gunzipStream, zstdDecompressFallback, sniffDecompress, type ContainerFormat } from './compression.js';
export { portableSha256, sha256Hex, type Sha256, type Sha256Factory } from './hash.js';
export { tarEntries, walkTarStream, indexTar, type TarMemberHeader, type StreamedTarEntry } from './tar.js';
export { openBlobSource, BlobTarSource, BlobCompressedTarSource, readStream, type BlobLike, type BlobSourceOptions, type ByteStream } from './blob.js';
