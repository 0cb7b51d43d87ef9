/** model/coredump: ELF core files of checkpointed processes (x86_64), written through a sink. */
export { writeCore, checkCoreable } from './write-core.js';
export { rootfsDiffFiles } from './rootfs-diff-files.js';
export type { CoreSink, CoreReport, CoreGap, CoreGapReason, FileRange, MappedFileSource, ParentImages, WriteCoreOptions } from './write-core.js';
