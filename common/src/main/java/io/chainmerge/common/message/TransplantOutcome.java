package io.chainmerge.common.message;

import java.util.List;

/**
 * What a transplant job did.
 *
 * @param mode {@code move} or {@code copy}
 * @param sourceWorker the worker the files came from (the one that ran the job for a same-worker transplant)
 * @param files each file: where it was, where it is now, its size and SHA-256, newest first
 * @param bytesMoved bytes copied by this run (less than the files' sizes when a run resumed a partial copy)
 * @param repointed the children that stayed and now link to the copies
 * @param removed the source files removed (none for a copy)
 * @param resumed it finished a run that a crash or stop had interrupted
 */
public record TransplantOutcome(
        TransplantMode mode,
        String sourceWorker,
        List<TransplantedFile> files,
        long bytesMoved,
        List<String> repointed,
        List<String> removed,
        boolean resumed) {
    public TransplantOutcome {
        files = files == null ? List.of() : List.copyOf(files);
        repointed = repointed == null ? List.of() : List.copyOf(repointed);
        removed = removed == null ? List.of() : List.copyOf(removed);
    }

    /**
     * One file of a transplant.
     *
     * @param from its path on the source worker
     * @param to its path on the receiving worker
     * @param sha256 the SHA-256 of its bytes as copied (lower-case hex), checked on arrival
     */
    public record TransplantedFile(String from, String to, long bytes, String sha256) {}
}
