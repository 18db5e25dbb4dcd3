package io.chainmerge.coordinator;

import java.time.Instant;
import java.util.Optional;

/**
 * Which replica of the coordinator group leads, as this replica knows it. Only the leader writes; a standby
 * answers reads from the state it follows and answers writes with 503, naming the leader.
 */
final class Leadership {
    /** What a new leader writes on the leader topic once it has fenced its predecessor. */
    record Leader(String coordinator, String url, Instant since) {}

    enum Role {
        /** Not yet elected, nor sure that another replica leads. */
        ELECTING,
        LEADER,
        STANDBY;

        String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final String self;
    private volatile Role role = Role.ELECTING;
    private volatile Leader leader;

    Leadership(String self) {
        this.self = self;
    }

    String self() {
        return self;
    }

    Role role() {
        return role;
    }

    boolean leading() {
        return role == Role.LEADER;
    }

    /** The leader as last announced on the leader topic (or this replica, once it leads). */
    Optional<Leader> leader() {
        return Optional.ofNullable(leader);
    }

    void standingBy() {
        if (role == Role.ELECTING) {
            role = Role.STANDBY;
        }
    }

    void leads(Leader announcement) {
        leader = announcement;
        role = Role.LEADER;
    }

    /** Deposed or fenced: it writes nothing more, and the process ends. */
    void deposed() {
        role = Role.STANDBY;
    }

    void announced(Leader announcement) {
        if (role != Role.LEADER) {
            leader = announcement;
        }
    }
}
