package io.chainmerge.disk.transplant;

import java.nio.file.Path;

/**
 * One file of a transplant.
 *
 * @param source where it is on the worker that holds it (a path on another host for a transfer)
 * @param target where its copy goes on this host
 * @param bytes its size
 * @param sha256 the SHA-256 of its bytes (lower-case hex), null until known
 */
public record TransplantFile(Path source, Path target, long bytes, String sha256) {
    public TransplantFile withSha256(String digest) {
        return new TransplantFile(source, target, bytes, digest);
    }

    /** Where the copy is written until it is checked: a name no scan takes for a disk. */
    public Path partial() {
        return target.resolveSibling(target.getFileName() + ".partial");
    }
}
