package io.chainmerge.common.kafka;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A daemon's long-running loops (its Kafka consumers), each on a thread of its own. A loop that ends
 * while nobody asked it to (a fatal consumer error, a bug) kills the daemon: it is no longer ready, and
 * the process exits non-zero so that systemd or Kubernetes starts it again. A daemon whose loop died and
 * that still answered "ready" would stall its pool silently.
 */
public final class PollLoops {
    private final CompletableFuture<String> death = new CompletableFuture<>();
    private volatile Throwable cause;
    private volatile boolean stopping;

    /** Starts {@code loop} on a thread named {@code name}, watched: its end, for any reason, kills the daemon. */
    public Thread start(String name, Runnable loop) {
        return start(name, loop, false);
    }

    /**
     * Starts {@code loop}, watched, on a thread named {@code name}: a loop that may end once its work is done
     * (a follower that hands over); only a throw kills the daemon.
     */
    public Thread startFinite(String name, Runnable loop) {
        return start(name, loop, true);
    }

    private Thread start(String name, Runnable loop, boolean mayEnd) {
        Thread thread = new Thread(
                () -> {
                    try {
                        loop.run();
                        if (!stopping && !mayEnd) {
                            death.complete(name + " ended by itself");
                        }
                    } catch (RuntimeException | Error e) {
                        // Not thrown on: the death is the report, and the daemon logs it with this cause.
                        fail(name + " stopped: " + e, e);
                    }
                },
                name);
        thread.start();
        return thread;
    }

    /** Kills the daemon from outside a loop (a producer fenced for good, a takeover that failed). */
    public void fail(String reason, Throwable failure) {
        if (!stopping && !death.isDone()) {
            cause = failure;
            death.complete(reason);
        }
    }

    /** A stop began: loops that end from now on were asked to. */
    public void stopping() {
        stopping = true;
    }

    /** Why the daemon is dead, if a loop died. */
    public Optional<String> death() {
        return Optional.ofNullable(death.getNow(null));
    }

    /** What the dead loop threw, if it threw. */
    public Optional<Throwable> cause() {
        return Optional.ofNullable(cause);
    }

    /** Completes, with the reason, when a loop dies. */
    public CompletionStage<String> died() {
        return death;
    }
}
