package io.chainmerge.common.message;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Move or copy disks of one chain into {@code targetFolder} on the worker that runs the job (the
 * receiving worker: the job is published on its pool), from another volume of the same worker or, with
 * {@code source}, from another worker over HTTP. Each file is copied, flushed and checked by SHA-256;
 * then the copies are linked to each other and, for a move, the children that stay are re-pointed at
 * the copies (the {@code set-parent} guard); only then are the sources removed. Refused, with nothing
 * changed, when a file of the chain is in use, a path lies outside the volume roots, or the target's
 * volume lacks room for the files plus {@code roomForMergeBytes} plus the reserve.
 *
 * @param chain the path of the chain's root on the source; the Kafka key, so one chain's jobs stay in order
 * @param disks the files to move, newest first, each the parent of the one before it (one disk, a part
 *     of the chain or all of it); absolute paths on the source worker; their file names are kept
 * @param targetFolder where the files go, a folder under a volume root of the receiving worker
 * @param source the worker holding the files, or null when they are on the receiving worker
 * @param mode {@code move} or {@code copy}
 * @param roomForMergeBytes space to leave on the target's volume, beyond the files and the reserve, for
 *     the merge that follows there
 * @param rateBytesPerSecond the most bytes copied per second; 0 for the receiving worker's setting
 * @param reserve the space to leave free on the target's volume; null for the receiving worker's setting
 * @param capability for a job with a {@code source}: the coordinator's signed transfer capability (see
 *     {@code io.chainmerge.common.security.TransferCapability}), added when the job is published; the
 *     receiving worker checks it before it contacts the source and presents it there. Null in messages
 *     written before it existed (schema 1 without it), which a secure worker refuses to pull for
 */
public record TransplantJob(
        int schemaVersion,
        String jobId,
        String campaignId,
        String pool,
        Instant issuedAt,
        String chain,
        List<String> disks,
        String targetFolder,
        TransplantSource source,
        TransplantMode mode,
        long roomForMergeBytes,
        long rateBytesPerSecond,
        ReserveSpec reserve,
        String capability)
        implements Job {

    /** A job as it is planned: the capability is added when it is published. */
    public TransplantJob(
            int schemaVersion,
            String jobId,
            String campaignId,
            String pool,
            Instant issuedAt,
            String chain,
            List<String> disks,
            String targetFolder,
            TransplantSource source,
            TransplantMode mode,
            long roomForMergeBytes,
            long rateBytesPerSecond,
            ReserveSpec reserve) {
        this(
                schemaVersion,
                jobId,
                campaignId,
                pool,
                issuedAt,
                chain,
                disks,
                targetFolder,
                source,
                mode,
                roomForMergeBytes,
                rateBytesPerSecond,
                reserve,
                null);
    }

    public TransplantJob {
        Schema.checkVersion(schemaVersion);
        Schema.require(jobId, "jobId");
        Schema.require(campaignId, "campaignId");
        Schema.poolName(pool, "pool");
        Schema.require(issuedAt, "issuedAt");
        Schema.absolutePath(chain, "chain");
        Schema.require(disks, "disks");
        if (disks.isEmpty()) {
            throw new IllegalArgumentException("disks: name at least one disk to transplant");
        }
        disks = List.copyOf(disks);
        Set<String> names = new HashSet<>();
        for (String disk : disks) {
            Schema.absolutePath(disk, "disks[]");
            String name = disk.substring(disk.lastIndexOf('/') + 1);
            if (name.isEmpty() || name.equals(".") || name.equals("..") || !names.add(name)) {
                throw new IllegalArgumentException(
                        "disks: each disk needs a file name of its own in the target folder: " + disk);
            }
        }
        Schema.absolutePath(targetFolder, "targetFolder");
        Schema.require(mode, "mode");
        if (roomForMergeBytes < 0) {
            throw new IllegalArgumentException("roomForMergeBytes cannot be negative");
        }
        if (rateBytesPerSecond < 0) {
            throw new IllegalArgumentException("rateBytesPerSecond cannot be negative");
        }
    }

    /** The same job carrying {@code capability} instead of any it had. */
    public TransplantJob withCapability(String capability) {
        return new TransplantJob(
                schemaVersion,
                jobId,
                campaignId,
                pool,
                issuedAt,
                chain,
                disks,
                targetFolder,
                source,
                mode,
                roomForMergeBytes,
                rateBytesPerSecond,
                reserve,
                capability);
    }

    /** As records print themselves, but without the capability: it is a credential, never logged. */
    @Override
    public String toString() {
        return "TransplantJob[jobId=%s, campaignId=%s, pool=%s, chain=%s, disks=%s, targetFolder=%s, source=%s, mode=%s, capability=%s]"
                .formatted(
                        jobId,
                        campaignId,
                        pool,
                        chain,
                        disks,
                        targetFolder,
                        source,
                        mode,
                        capability == null ? "(none)" : "******");
    }

    /** The files come from another worker, over HTTP. */
    public boolean crossWorker() {
        return source != null;
    }

    @Override
    public JobKind kind() {
        return JobKind.TRANSPLANT;
    }

    @Override
    public String key() {
        return chain;
    }

    @Override
    public <R, X extends Exception> R accept(JobVisitor<R, X> visitor) throws X {
        return visitor.transplant(this);
    }
}
