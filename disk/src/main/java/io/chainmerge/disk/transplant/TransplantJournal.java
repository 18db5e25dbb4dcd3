package io.chainmerge.disk.transplant;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a transplant records its steps, durably, so that running it again finishes it: the worker keeps
 * it in its per-job journal on the target's volume.
 */
public interface TransplantJournal {
    /** The last step recorded; null when the transplant never started. */
    TransplantStep step();

    /** The files as last recorded, each with its SHA-256 once its copy is in place. */
    List<TransplantFile> files();

    /** The children re-pointed at the copies, recorded with {@link TransplantStep#LINKED}. */
    List<Path> repointed();

    /** Records a step; it must be durable when this returns. */
    void record(TransplantStep step, List<TransplantFile> files, List<Path> repointed) throws IOException;

    /** A journal in memory, for a transplant that a crash need not survive (tests, one-off commands). */
    static TransplantJournal inMemory() {
        return new TransplantJournal() {
            private TransplantStep step;
            private List<TransplantFile> files = List.of();
            private List<Path> repointed = List.of();

            @Override
            public TransplantStep step() {
                return step;
            }

            @Override
            public List<TransplantFile> files() {
                return files;
            }

            @Override
            public List<Path> repointed() {
                return repointed;
            }

            @Override
            public void record(TransplantStep next, List<TransplantFile> nextFiles, List<Path> nextRepointed) {
                step = next;
                files = List.copyOf(nextFiles);
                repointed = List.copyOf(nextRepointed);
            }
        };
    }
}
