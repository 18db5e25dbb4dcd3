package io.chainmerge.disk.transplant;

import io.chainmerge.disk.merge.Throttle;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where a transplant's files come from: another volume of this host, or another worker. Opening it
 * checks the source side's guards (files in use, children a move would leave without a parent) and
 * holds the files against change until it is closed.
 */
public interface TransplantSource extends Closeable {

    /** The files, newest first, with their sizes; their SHA-256 where the source knows it up front. */
    List<TransplantFile> files();

    /**
     * The parent of the oldest file, which stays where it is and which its copy is linked to; null when
     * the oldest file is a root.
     */
    Path parentOfOldest();

    /**
     * Children of the files that are not moved themselves and are on this host, each with the file it
     * links to: a move re-points them at that file's copy.
     */
    Map<Path, Path> childrenLeftBehind();

    /**
     * Copies {@code file} into {@code partial}, continuing from what it already holds where the source
     * can, at most at the throttle's rate; returns the SHA-256 the source vouches for.
     *
     * @return the source's SHA-256 of the file
     */
    String copy(TransplantFile file, Path partial, Throttle throttle, CopyProgress progress) throws IOException;

    /** Removes the source of {@code file}, whose copy is checked and linked; a removed file is no error. */
    void remove(TransplantFile file) throws IOException;

    /** Bytes copied so far, for progress reports. */
    interface CopyProgress {
        /** May stop the copy (a shutdown) by throwing; what is copied and journaled so far stays. */
        void copied(long bytes) throws IOException;
    }
}
