package io.chainmerge.disk.io;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Named points between the steps of every destructive operation, where a test can make the process die
 * at once, as a crash or a kill would. Set the system property {@value #PROPERTY} to {@code name} (die
 * the first time the point is reached) or {@code name#n} (the n-th time). Unset, a point costs one
 * property read.
 */
public final class CrashPoints {
    public static final String PROPERTY = "chainmerge.crashAt";
    /** The exit status of a process stopped at a crash point. */
    public static final int EXIT_STATUS = 86;

    private static final Map<String, AtomicInteger> REACHED = new ConcurrentHashMap<>();

    private static volatile Consumer<String> observer;

    private CrashPoints() {}

    /**
     * Lets a test look at the process at every point reached, on the thread that reaches it (what a
     * lock timeline checks: which files the kernel has locked at each destructive step); null stops it.
     */
    public static void observe(Consumer<String> pointObserver) {
        observer = pointObserver;
    }

    public static void reach(String name) {
        Consumer<String> watching = observer;
        if (watching != null) {
            watching.accept(name);
        }
        String target = System.getProperty(PROPERTY);
        if (target == null) {
            return;
        }
        int hash = target.indexOf('#');
        String targetName = hash < 0 ? target : target.substring(0, hash);
        if (!targetName.equals(name)) {
            return;
        }
        int nth = hash < 0 ? 1 : Integer.parseInt(target.substring(hash + 1));
        if (REACHED.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet() == nth) {
            System.err.println("chainmerge: crash point " + target + " reached, halting");
            System.err.flush();
            Runtime.getRuntime().halt(EXIT_STATUS);
        }
    }
}
