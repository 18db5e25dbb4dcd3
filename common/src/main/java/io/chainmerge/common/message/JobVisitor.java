package io.chainmerge.common.message;

/** One method per job kind: the compiler checks that a dispatch handles them all. */
public interface JobVisitor<R, X extends Exception> {
    R spaceCheck(SpaceCheckJob job) throws X;

    R merge(MergeJob job) throws X;

    R setParent(SetParentJob job) throws X;

    R transplant(TransplantJob job) throws X;
}
