package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.coordinator.JobLeases.Expired;
import io.chainmerge.coordinator.JobLeases.Placement;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class JobLeasesTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");

    private final JobLeases leases = new JobLeases(TIMEOUT);

    @Test
    void aJobWithoutSignOfLifeExpiresAfterTheTimeoutAndNotBefore() {
        leases.hold("c", "j", 1, T0);

        assertThat(leases.expired(T0.plus(TIMEOUT).minusMillis(1))).isEmpty();
        assertThat(leases.expired(T0.plus(TIMEOUT))).containsExactly(new Expired("c", "j", 1, null, null));
    }

    @Test
    void progressMovesTheDeadlineOnToTheLastSignOfLife() {
        leases.hold("c", "j", 1, T0);
        Instant progress = T0.plusSeconds(300);
        leases.signOfLife("j", "w1", progress);

        assertThat(leases.expired(T0.plus(TIMEOUT))).isEmpty();
        assertThat(leases.expired(progress.plus(TIMEOUT).minusMillis(1))).isEmpty();
        assertThat(leases.expired(progress.plus(TIMEOUT))).containsExactly(new Expired("c", "j", 1, progress, "w1"));
    }

    @Test
    void anExpiredLeaseStaysHeldAndComesUpAgainAfterAnotherTimeoutUntilReleased() {
        leases.hold("c", "j", 1, T0);
        Instant first = T0.plus(TIMEOUT);
        assertThat(leases.expired(first)).hasSize(1);
        // The re-publish failed: nothing was held anew, so it is due again, not lost.
        assertThat(leases.expired(first.plus(TIMEOUT).minusMillis(1))).isEmpty();
        assertThat(leases.expired(first.plus(TIMEOUT))).hasSize(1);

        leases.release("j");
        assertThat(leases.expired(first.plus(TIMEOUT.multipliedBy(5)))).isEmpty();
        assertThat(leases.size()).isZero();
    }

    @Test
    void holdingANewAttemptRestartsTheLeaseAndHoldingTheSameAttemptAgainChangesNothing() {
        leases.hold("c", "j", 1, T0);
        leases.hold("c", "j", 1, T0.plusSeconds(500)); // the same event recorded again
        assertThat(leases.expired(T0.plus(TIMEOUT))).hasSize(1);

        Instant republished = T0.plus(TIMEOUT);
        leases.hold("c", "j", 2, republished);
        assertThat(leases.expired(republished.plus(TIMEOUT).minusMillis(1))).isEmpty();
        assertThat(leases.expired(republished.plus(TIMEOUT)))
                .extracting(Expired::attempt)
                .containsExactly(2);
    }

    @Test
    void aJobWaitingBehindALiveJobOnItsPartitionIsNotStalled() {
        leases.hold("c", "running", 1, T0);
        leases.placed("running", new Placement("chainmerge.jobs.p", 2, 10));
        leases.hold("c", "queued", 1, T0);
        leases.placed("queued", new Placement("chainmerge.jobs.p", 2, 11));
        leases.hold("c", "elsewhere", 1, T0);
        leases.placed("elsewhere", new Placement("chainmerge.jobs.p", 3, 12));
        Instant progress = T0.plusSeconds(599);
        leases.signOfLife("running", "w1", progress);

        assertThat(leases.expired(T0.plus(TIMEOUT))).extracting(Expired::jobId).containsExactly("elsewhere");
        assertThat(leases.expired(progress.plus(TIMEOUT)))
                .extracting(Expired::jobId)
                .containsExactlyInAnyOrder("running", "queued");
    }

    @Test
    void aJobAheadOfTheLiveOneOnItsPartitionIsNotKeptAliveByIt() {
        leases.hold("c", "earlier", 1, T0);
        leases.placed("earlier", new Placement("chainmerge.jobs.p", 0, 5));
        leases.hold("c", "later", 1, T0);
        leases.placed("later", new Placement("chainmerge.jobs.p", 0, 6));
        leases.signOfLife("later", "w1", T0.plusSeconds(300));

        assertThat(leases.expired(T0.plus(TIMEOUT))).extracting(Expired::jobId).containsExactly("earlier");
    }

    @Test
    void aTickFindsOnlyTheLeasesWhoseDeadlinePassedAmongManyInFlight() {
        for (int i = 0; i < 100_000; i++) {
            leases.hold("c", "j" + i, 1, T0.plusMillis(i));
        }
        assertThat(leases.expired(T0.plus(TIMEOUT).plusMillis(2)))
                .extracting(Expired::jobId)
                .containsExactly("j0", "j1", "j2");
        assertThat(leases.size()).isEqualTo(100_000);
    }

    @Test
    void placementsFindTheJobOnlyWhileItsAttemptIsHeld() {
        Placement first = new Placement("chainmerge.jobs.p", 1, 7);
        leases.hold("c", "j", 1, T0);
        leases.placed("j", first);
        assertThat(leases.jobAt(first)).contains("j");
        assertThat(leases.campaignOf("j")).contains("c");

        leases.hold("c", "j", 2, T0.plus(TIMEOUT));
        assertThat(leases.jobAt(first)).isEmpty();
        Placement second = new Placement("chainmerge.jobs.p", 1, 9);
        leases.placed("j", second);
        leases.release("j");
        assertThat(leases.jobAt(second)).isEmpty();
        assertThat(leases.campaignOf("j")).isEmpty();
    }

    @Test
    void progressOfAJobWithoutALeaseIsIgnored() {
        leases.signOfLife("unknown", "w1", T0);
        assertThat(leases.size()).isZero();
        assertThat(leases.expired(T0.plus(TIMEOUT))).isEmpty();
    }

    @Test
    void aTimeoutMustBePositive() {
        assertThatThrownBy(() -> new JobLeases(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
