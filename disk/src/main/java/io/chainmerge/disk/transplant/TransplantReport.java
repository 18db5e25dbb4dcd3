package io.chainmerge.disk.transplant;

import java.nio.file.Path;
import java.util.List;

/**
 * What a transplant did.
 *
 * @param files each file, newest first, with where its copy is and its SHA-256
 * @param bytesCopied bytes copied by this run
 * @param repointed children left behind that now link to the copies
 * @param removed sources removed by this run
 * @param resumed it finished a run that had been interrupted
 */
public record TransplantReport(
        List<TransplantFile> files, long bytesCopied, List<Path> repointed, List<Path> removed, boolean resumed) {
    public TransplantReport {
        files = List.copyOf(files);
        repointed = List.copyOf(repointed);
        removed = List.copyOf(removed);
    }

    /** The newest copy: the top of the chain as it is now. */
    public Path newTop() {
        return files.get(0).target();
    }
}
