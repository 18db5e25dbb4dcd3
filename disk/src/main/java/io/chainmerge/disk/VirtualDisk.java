package io.chainmerge.disk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * One open virtual disk file (a VHDX or a VHD), seen on its own: what it defines of the virtual disk,
 * and the operations a merge needs on it. Reading through a chain is {@link
 * io.chainmerge.disk.chain.ChainReader}'s job; opening and creating one, {@link
 * io.chainmerge.disk.engines.DiskFiles}'.
 *
 * <p>Writes follow the formats' crash-safety rules: data reaches the file before any metadata points
 * at it, and {@link #commit()} makes everything written so far durable.
 */
public interface VirtualDisk extends Closeable {

    Path path();

    DiskFormat format();

    DiskType type();

    /** The size of the virtual disk in bytes. */
    long virtualSize();

    /** The allocation unit of the file, in bytes. */
    int blockSize();

    int logicalSectorSize();

    int physicalSectorSize();

    /**
     * The identity a child records to link to this disk: the VHDX DataWriteGuid (which changes whenever
     * the disk's data changes), the VHD unique id.
     */
    UUID identity();

    /** The id the disk presents to a virtual machine (VHDX Virtual Disk ID, VHD unique id). */
    UUID virtualDiskId();

    /** The parent link, present exactly when {@link #type()} is {@link DiskType#DIFFERENCING}. */
    Optional<ParentLink> parentLink();

    long fileSize() throws IOException;

    boolean isWritable();

    /** Format-specific facts for {@code inspect}, in display order. */
    Map<String, Object> details();

    /**
     * Appends to {@code out}, in ascending order, the extents within {@code [offset, offset + length)}
     * that this file defines itself. Ranges it leaves to its parent (or, for a root, to zeros) are
     * absent.
     */
    void extents(long offset, long length, List<Extent> out) throws IOException;

    /** Reads the stored bytes of a {@link Extent.Kind#DATA} extent, from its file offset. */
    void readStored(long fileOffset, ByteBuffer destination) throws IOException;

    /**
     * Writes data into the virtual disk, as a virtual machine would: {@code offset} and the length
     * are multiples of the logical sector size. Changes the disk's identity on the first write of a
     * session.
     */
    void write(long offset, ByteBuffer source) throws IOException;

    /** Makes {@code [offset, offset + length)} read as zeros, hiding the parent there. Sector aligned. */
    void writeZeros(long offset, long length) throws IOException;

    /** Makes every write so far durable: data flushed first, then the metadata that points at it. */
    void commit() throws IOException;

    /**
     * Flushes the data written so far without publishing any metadata, so the next {@link #commit()}
     * finds less to wait for. The one call that may come from another thread while this disk is
     * written; a failure here also fails every later commit.
     */
    void flushWrittenData() throws IOException;

    /** An estimator of the growth of this file under writes, from its current state. */
    SpaceEstimator spaceEstimator() throws IOException;

    /**
     * Makes this child accept {@code futureParentIdentity} as its parent's identity as well as the
     * one it records, before the parent takes it on (VHDX parent_linkage2, spec note 12), so the link
     * holds through a merge into the parent. A no-op where the format has no such field.
     */
    void acceptParentIdentity(UUID futureParentIdentity) throws IOException;

    /** Gives this disk a new identity ahead of a data change a merge makes (VHDX DataWriteGuid). */
    void changeIdentity(UUID newIdentity) throws IOException;

    /**
     * Re-points this child at {@code parent}: records its identity and its location, in every path
     * form the format keeps. The caller has checked that {@code parent} is the right disk.
     */
    void setParent(VirtualDisk parent) throws IOException;

    /** Takes on the virtual disk id of the child merged into this disk (VHDX IsVirtualDisk items). */
    void adoptVirtualDiskId(UUID virtualDiskId) throws IOException;

    /**
     * What this child recorded of {@code parent}, besides its identity, that {@code parent} no longer
     * matches, in words for a report: the VHD Parent Time Stamp against the parent file's time. Never a
     * reason to refuse, since the identity decides; empty when all matches or the format records nothing
     * more.
     */
    default List<String> parentRecordMismatches(VirtualDisk parent) throws IOException {
        return List.of();
    }

    /**
     * Checks every structure of the file, including every allocation entry and that no two structures
     * overlap. Opening checks only what reading needs.
     */
    void verify() throws IOException;
}
