package io.chainmerge.disk.transplant;

/**
 * The journaled steps of a transplant, in order. Each is recorded once it is durable, so a re-run knows
 * what is done: before {@link #LINKED} the sources are the chain and the copies are spare; from it on
 * the copies are, and the sources are spare until they are removed.
 */
public enum TransplantStep {
    /** Guards passed; the files and their sizes are recorded. Copies, if any, are unchecked or partial. */
    PLANNED,
    /** Every copy is complete, flushed, checked against the source's SHA-256 and in place under its name. */
    COPIED,
    /** The copies link to each other and every child left behind links to its copy. */
    LINKED,
    /** The sources are gone (a move), or kept (a copy). */
    DONE
}
