package io.chainmerge.disk.io;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The locks of one operation (a merge, a re-point, a transplant), held from its first open to its end.
 *
 * <p>Every disk file the operation opens on this thread while the scope is open stays open and locked
 * until the scope closes, however often the operation opens and closes it meanwhile: a merge's sources
 * stay locked until they are deleted, its destination until the last child is re-pointed. Inside the
 * scope the operation may open a file it holds again; any other operation, in this process or another,
 * is refused with the {@code in-use} guard, and so is qemu, which honours the same locks.
 *
 * <p>A file is locked as it is first opened in the scope, shared for reading or exclusive for writing. An
 * operation that reads a file before it writes it (a merge checks its chain read-only first) {@link
 * #hold}s it for writing before anything else, so it never has to trade a shared lock for an exclusive
 * one, which would let go of the file in between.
 *
 * <p>The scope belongs to the thread that began it: the engine runs one operation on one thread. A
 * scope begun while another is open on the thread joins it, and the outer one's end releases both.
 */
public final class LockScope implements Closeable {
    private static final ThreadLocal<LockScope> CURRENT = new ThreadLocal<>();
    /** Whom the operations begun on this thread run for, or null: see {@link #onBehalfOf}. */
    private static final ThreadLocal<String> ON_BEHALF_OF = new ThreadLocal<>();

    /** What {@link #onBehalfOf} returns: closing it puts back whom the thread ran for before. */
    public interface OnBehalfOf extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Names whom the operations begun on this thread until the returned handle closes run for ("job j-17 of
     * campaign c-1"), so that every refusal they cause and every claim they leave on a volume names it too.
     */
    public static OnBehalfOf onBehalfOf(String who) {
        String before = ON_BEHALF_OF.get();
        ON_BEHALF_OF.set(who);
        return () -> {
            if (before == null) {
                ON_BEHALF_OF.remove();
            } else {
                ON_BEHALF_OF.set(before);
            }
        };
    }

    private final String operation;
    private final Thread owner;
    /** Whether this scope joined an outer one, whose end releases both. */
    private final boolean nested;
    /** The table entries this scope keeps, one reference each, released when it closes. */
    private final Set<Object> kept = new LinkedHashSet<>();

    private boolean closed;

    private LockScope(String operation, boolean nested) {
        this.operation = operation;
        this.owner = Thread.currentThread();
        this.nested = nested;
    }

    /**
     * Begins the scope of {@code operation} on this thread, named in words for the refusals others get
     * ("merge of /vms/a.avhdx").
     */
    public static LockScope begin(String operation) {
        String who = ON_BEHALF_OF.get();
        if (who != null) {
            operation = operation + " for " + who;
        }
        LockScope outer = CURRENT.get();
        if (outer != null) {
            return new LockScope(operation, true);
        }
        LockScope scope = new LockScope(operation, false);
        CURRENT.set(scope);
        return scope;
    }

    /** The scope open on this thread, or null. */
    static LockScope current() {
        return CURRENT.get();
    }

    /**
     * Locks {@code file} for the rest of the scope, shared for {@link Access#READ} or exclusive for {@link
     * Access#WRITE}: refused at once, changing nothing, when another operation or process holds it.
     */
    public void hold(Path file, Access access) throws IOException {
        requireOpenOnOwner();
        if (access == Access.PEEK) {
            throw new IllegalArgumentException("a lock scope holds files for reading or writing");
        }
        try (LockedFile ignored = LockedFile.open(file, access)) {
            // the scope keeps the lock after this reference goes
        }
    }

    /**
     * Renames {@code from} to {@code to} atomically (a checked copy moved into place), keeping the claim
     * other hosts see on the file under its new name.
     */
    public static void rename(Path from, Path to) throws IOException {
        OpenFileTable.rename(from, to);
    }

    /**
     * Refuses to go on, with the {@code in-use} guard, when a claim of the operation on this thread was
     * taken over by another host while it held it (it was paused past the claim's time to live, or lost
     * its volume): checked before each step that writes, so it stops instead of writing beside the new
     * holder. Nothing to check without a scope.
     */
    public static void requireClaims() throws GuardRefusal {
        LockScope scope = CURRENT.get();
        if (scope == null) {
            return;
        }
        for (Object key : scope.kept) {
            String lost = OpenFileTable.claimLost(key);
            if (lost != null) {
                throw new GuardRefusal(
                        Guard.IN_USE, null, "the " + scope + " stopped: " + lost, Map.of("holder", lost));
            }
        }
    }

    /** Records that this scope keeps one reference to the table entry {@code key}; true the first time. */
    boolean keep(Object key) {
        return kept.add(key);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        requireOpenOnOwner();
        closed = true;
        if (nested) {
            return;
        }
        CURRENT.remove();
        IOException first = null;
        for (Object key : kept) {
            try {
                OpenFileTable.releaseKept(key, this);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        ClaimFile.sweepReleasedFolders();
        if (first != null) {
            throw first;
        }
    }

    private void requireOpenOnOwner() {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("the lock scope of the " + operation + " belongs to " + owner.getName());
        }
        if (closed) {
            throw new IllegalStateException("the lock scope of the " + operation + " is closed");
        }
    }

    @Override
    public String toString() {
        return operation;
    }
}
