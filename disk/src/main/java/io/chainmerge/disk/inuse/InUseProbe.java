package io.chainmerge.disk.inuse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One way of telling that a disk file is in use beyond this host's POSIX locks, which a VM on a Hyper-V
 * host, an SMB or NFS client, or a process that never locks does not take: consulted before a merge, a
 * transplant or a re-point changes a chain, with its files held.
 */
public interface InUseProbe {

    /** The probe's name in refusals, results and {@code /ready}: {@code open-files}, {@code samba}, … */
    String name();

    /**
     * Who holds any of {@code files} (real paths) in use; empty when nobody does.
     *
     * @throws ProbeUnavailableException when the probe cannot look (its tool fails, no permission): the
     *     caller's policy decides whether that refuses
     */
    List<InUseHolder> holders(List<Path> files) throws IOException;
}
