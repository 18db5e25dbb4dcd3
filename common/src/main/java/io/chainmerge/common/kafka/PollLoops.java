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

    /** Starts {@code loop} on a thread named {@code name}, watched. */
    public Thread start(String name, Runnable loop) {
        Thread thread = new Thread(
                () -> {
                    try {
                        loop.run();
                        if (!stopping) {
                            death.complete(name + " ended by itself");
                        }
                    } catch (RuntimeException | Error e) {
                        // Not thrown on: the death is the report, and the daemon logs it with this cause.
                        if (!stopping) {
                            cause = e;
                            death.complete(name + " stopped: " + e);
                        }
                    }
                },
                name);
        thread.start();
        return thread;
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
