package io.chainmerge.disk;

/** How a disk file is opened. Both take a lock other chainmerge processes respect. */
public enum Access {
    /** Shared lock; no byte of the file is ever written, a pending log is replayed in memory. */
    READ,
    /** Exclusive lock; the file is changed only when an operation asks for it. */
    WRITE
}
