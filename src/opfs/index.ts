export { OpfsBlobStore } from './opfs-blob-store.ts';
export { MemoryBlobStore, type BlobStore, type BlobReader } from './blob-store.ts';
export { MemoryJournalFiles, OpfsJournalFiles, type AppendFile, type JournalFiles } from './append-file.ts';
export { CheckpointJournal, type CheckpointJournalOptions, type CheckpointOptions, type RecoveryReport } from './checkpoint-journal.ts';
