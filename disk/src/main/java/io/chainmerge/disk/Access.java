package io.chainmerge.disk;

/** How a disk file is opened. */
public enum Access {
    /** Shared lock; no byte of the file is ever written, a pending log is replayed in memory. */
    READ,
    /** Exclusive lock; the file is changed only when an operation asks for it. */
    WRITE,
    /**
     * No lock, for scans that read headers only: a file another process is merging can still be
     * listed. Read-only, like {@link #READ}.
     */
    PEEK;

    public boolean writes() {
        return this == WRITE;
    }
}
