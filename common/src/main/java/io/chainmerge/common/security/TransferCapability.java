package io.chainmerge.common.security;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * What the coordinator lets one transplant job do on its source worker, signed by the coordinator
 * ({@link CapabilitySigner}) and checked by both workers ({@link CapabilityVerifier}): read exactly
 * {@code files} (their manifest and bytes) on the worker {@code sourceWorker} at {@code sourceUrl}, and,
 * for a move, delete those files and no others, until {@code expiresAt}.
 *
 * @param version the capability format, {@value #VERSION}
 * @param jobId the transplant job the capability was issued for
 * @param sourceWorker the id ({@code worker.id}) of the worker that serves the files
 * @param sourceUrl where the receiving worker may pull them from: the URL the source worker advertised in
 *     its inventory, never one that only a job names
 * @param files the source paths, newest first, as the job names them
 * @param mayDelete whether the receiving worker may delete the sources (a move), after it checked its copies
 * @param expiresAt after this instant the capability opens nothing
 */
public record TransferCapability(
        int version,
        String jobId,
        String sourceWorker,
        String sourceUrl,
        List<String> files,
        boolean mayDelete,
        Instant expiresAt) {
    public static final int VERSION = 1;

    public TransferCapability {
        if (version != VERSION) {
            throw new IllegalArgumentException("capability version " + version + " is not " + VERSION);
        }
        if (jobId == null || sourceWorker == null || sourceUrl == null || files == null || expiresAt == null) {
            throw new IllegalArgumentException("a capability names its job, source worker and URL, files and expiry");
        }
        files = List.copyOf(files);
    }

    /** Refuses unless the capability was issued for the job {@code jobId}. */
    public void requireJob(String jobId) {
        if (!this.jobId.equals(jobId)) {
            throw new CapabilityException("the capability is for the job " + this.jobId + ", not " + jobId);
        }
    }

    /** Refuses unless the capability is for files served by the worker {@code workerId}. */
    public void requireSourceWorker(String workerId) {
        if (!sourceWorker.equals(workerId)) {
            throw new CapabilityException(
                    "the capability opens files on the worker " + sourceWorker + ", not on " + workerId);
        }
    }

    /** Refuses unless {@code path} is one of the capability's files. */
    public void requireFile(String path) {
        Path asked = Path.of(path).normalize();
        if (files.stream().map(f -> Path.of(f).normalize()).noneMatch(asked::equals)) {
            throw new CapabilityException("the capability of the job " + jobId + " does not open " + path);
        }
    }

    /** Refuses unless the capability lets its holder delete {@code path} (a move, one of its files). */
    public void requireDelete(String path) {
        requireFile(path);
        if (!mayDelete) {
            throw new CapabilityException("the capability of the job " + jobId + " is for a copy: it deletes nothing");
        }
    }
}
