package io.chainmerge.disk.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Claims as another host sees them: written beside the disk while it is held for writing, gone after;
 * a live claim of another host refuses a writer here; a stale one, or one whose process is gone, is
 * taken over; a claim taken over while held stops the operation at its next check.
 */
class ClaimFileTest {

    @TempDir
    Path dir;

    @Test
    void aFileHeldForWritingCarriesAClaimNamingTheOperationUntilTheScopeCloses() throws Exception {
        Path disk = disk("vm01.avhdx");
        Path claim = ClaimFile.pathOf(disk);
        try (LockScope scope = LockScope.begin("merge of " + disk)) {
            scope.hold(disk, Access.WRITE);

            Properties written = read(claim);
            assertThat(written.getProperty("operation")).isEqualTo("merge of " + disk);
            assertThat(written.getProperty("host")).isEqualTo(HostIdentity.name());
            assertThat(written.getProperty("pid"))
                    .isEqualTo(Long.toString(ProcessHandle.current().pid()));
            assertThat(written.getProperty("boot")).isEqualTo(HostIdentity.bootId());
        }
        assertThat(claim).doesNotExist();
    }

    @Test
    void anOperationRunForAJobNamesItInItsClaim() throws Exception {
        Path disk = disk("vm01.avhdx");
        try (LockScope.OnBehalfOf job = LockScope.onBehalfOf("job j-17 of campaign c-1");
                LockScope scope = LockScope.begin("merge of " + disk)) {
            scope.hold(disk, Access.WRITE);

            assertThat(read(ClaimFile.pathOf(disk)).getProperty("operation"))
                    .isEqualTo("merge of " + disk + " for job j-17 of campaign c-1");
        }
        try (LockScope scope = LockScope.begin("merge of " + disk)) {
            scope.hold(disk, Access.WRITE);
            assertThat(read(ClaimFile.pathOf(disk)).getProperty("operation"))
                    .as("the thread runs for nobody once the job's handle closed")
                    .isEqualTo("merge of " + disk);
        }
    }

    @Test
    void aFileReplacedUnderItsNameWhileHeldSharesTheOneClaimOfThatName() throws Exception {
        Path disk = disk("base.vhdx.partial");
        Path claim = ClaimFile.pathOf(disk);
        try (LockScope scope = LockScope.begin("transplant into " + dir)) {
            scope.hold(disk, Access.WRITE);
            Files.delete(disk); // a damaged copy fetched again: a new file under the old name
            disk("base.vhdx.partial");

            scope.hold(disk, Access.WRITE);

            assertThat(claim).exists();
        }
        assertThat(claim).doesNotExist();
    }

    @Test
    void staleClaimsOnFilesThatAreGoneAreSweptWhenAClaimInTheirFolderIsReleasedAndLiveOnesStay() throws Exception {
        Path disk = disk("vm01.avhdx");
        Instant stale =
                Instant.now().minus(ClaimFile.ttl()).minus(ClaimFile.grace()).minusSeconds(5);
        Path orphan = foreignClaim(dir.resolve("vm01.vhdx.partial"), "hv-02", stale); // a crashed copy's
        Path live = foreignClaim(dir.resolve("vm02.vhdx.partial"), "hv-03", Instant.now()); // a running one's
        Path staleOnAFileThatIsThere = foreignClaim(disk("vm03.vhdx"), "hv-02", stale);
        Path deadDraft = draft(dir.resolve("vm04.vhdx"), stale); // its writer died between writing and linking
        Path liveDraft = draft(dir.resolve("vm05.vhdx"), Instant.now());

        try (LockScope scope = LockScope.begin("merge of " + disk)) {
            scope.hold(disk, Access.WRITE);
        }

        assertThat(orphan).doesNotExist();
        assertThat(live).exists();
        assertThat(staleOnAFileThatIsThere)
                .as("taken over when that file is next held")
                .exists();
        assertThat(deadDraft).doesNotExist();
        assertThat(liveDraft).exists();
    }

    @Test
    void aClaimIsNeverSeenHalfWrittenAndLeavesNoDraftBehind() throws Exception {
        Path disk = disk("vm01.avhdx");
        Path claim = ClaimFile.pathOf(disk);
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger seen = new AtomicInteger();
        List<String> halfWritten = new CopyOnWriteArrayList<>();
        // Another host's view: it reads the claim whenever it is there, as a refused writer does.
        Thread reader = new Thread(() -> {
            while (!done.get()) {
                try {
                    byte[] content = Files.readAllBytes(claim);
                    seen.incrementAndGet();
                    Properties fields = new Properties();
                    fields.load(new java.io.ByteArrayInputStream(content));
                    if (fields.getProperty("claim") == null) {
                        halfWritten.add(new String(content, java.nio.charset.StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    // not there between two holds
                }
            }
        });
        reader.start();
        try {
            for (int i = 0; i < 2000; i++) {
                try (LockScope scope = LockScope.begin("merge of " + disk)) {
                    scope.hold(disk, Access.WRITE);
                }
            }
        } finally {
            done.set(true);
            reader.join();
        }
        assertThat(seen.get()).as("the reader met the claim").isPositive();
        assertThat(halfWritten).isEmpty();
        try (var names = Files.list(dir)) {
            assertThat(names.map(p -> p.getFileName().toString())).containsExactly("vm01.avhdx");
        }
    }

    @Test
    void aFileHeldOnlyForReadingIsNotClaimed() throws Exception {
        Path disk = disk("vm01.vhdx");
        try (LockScope scope = LockScope.begin("check of " + disk)) {
            scope.hold(disk, Access.READ);
            assertThat(ClaimFile.pathOf(disk)).doesNotExist();
        }
    }

    @Test
    void aLiveClaimOfAnotherHostRefusesAWriterHereAndChangesNothing() throws Exception {
        Path disk = disk("vm01.avhdx");
        Path claim = foreignClaim(disk, "hv-02", Instant.now());
        byte[] before = Files.readAllBytes(claim);

        try (LockScope scope = LockScope.begin("merge of " + disk)) {
            assertThatThrownBy(() -> scope.hold(disk, Access.WRITE))
                    .isInstanceOfSatisfying(GuardRefusal.class, refusal -> {
                        assertThat(refusal.guard()).isEqualTo(GuardRefusal.Guard.IN_USE);
                        assertThat(refusal.figures()).containsEntry("claim", claim.toString());
                    })
                    .hasMessageContaining("in use: claimed by merge of /srv/vol1/vm01.avhdx on host hv-02, pid 4242");
        }
        assertThat(Files.readAllBytes(claim)).isEqualTo(before);
        assertThat(OpenFileTable.isOpen(disk))
                .as("the lock taken before the claim is let go")
                .isFalse();
    }

    @Test
    void aClaimOfAnotherHostNotRenewedForItsTimeToLiveAndTheGraceIsTakenOver() throws Exception {
        Path disk = disk("vm01.avhdx");
        Instant stale =
                Instant.now().minus(ClaimFile.ttl()).minus(ClaimFile.grace()).minusSeconds(5);
        Path claim = foreignClaim(disk, "hv-02", stale);

        try (LockScope scope = LockScope.begin("merge of " + disk)) {
            scope.hold(disk, Access.WRITE);
            assertThat(read(claim).getProperty("host")).isEqualTo(ClaimFile.host());
        }
        assertThat(claim).doesNotExist();
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("vm01.avhdx");
        }
    }

    @Test
    void aClaimRenewedWithinItsTimeToLiveIsNotStaleHoweverOld() throws Exception {
        Path disk = disk("vm01.avhdx");
        Instant justAlive =
                Instant.now().minus(ClaimFile.ttl()).plus(ClaimFile.grace()).minusSeconds(5);
        foreignClaim(disk, "hv-02", justAlive);

        try (LockScope scope = LockScope.begin("merge of " + disk)) {
            assertThatThrownBy(() -> scope.hold(disk, Access.WRITE)).isInstanceOf(GuardRefusal.class);
        }
    }

    @Test
    void aClaimOfThisHostWhoseProcessIsGoneIsTakenOverAtOnce() throws Exception {
        Path disk = disk("vm01.avhdx");
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path claim = ClaimFile.pathOf(disk);
        Properties fields = claimFields(ClaimFile.host(), gone.pid());
        fields.setProperty("boot", HostIdentity.bootId());
        write(claim, fields, Instant.now());

        try (LockScope scope = LockScope.begin("merge of " + disk)) {
            scope.hold(disk, Access.WRITE);
            assertThat(read(claim).getProperty("pid"))
                    .isEqualTo(Long.toString(ProcessHandle.current().pid()));
        }
    }

    @Test
    void anOperationWhoseClaimWasTakenOverWhileItHeldItStopsAtItsNextCheck() throws Exception {
        Path disk = disk("vm01.avhdx");
        Path claim = ClaimFile.pathOf(disk);
        try (LockScope scope = LockScope.begin("merge of " + disk)) {
            scope.hold(disk, Access.WRITE);
            LockScope.requireClaims();
            // As a host that judged this one dead does: the claim moved aside, its own put in place.
            Files.delete(claim);
            foreignClaim(disk, "hv-02", Instant.now());

            ClaimFile.renewAll();

            assertThatThrownBy(LockScope::requireClaims)
                    .isInstanceOf(GuardRefusal.class)
                    .hasMessageContaining("stopped: " + disk + ": its claim was taken over by merge of")
                    .hasMessageContaining("on host hv-02");
        }
        assertThat(read(claim).getProperty("host"))
                .as("the new holder's claim stays")
                .isEqualTo("hv-02");
    }

    @Test
    void aHeldClaimIsRenewed() throws Exception {
        Path disk = disk("vm01.avhdx");
        Path claim = ClaimFile.pathOf(disk);
        try (LockScope scope = LockScope.begin("merge of " + disk)) {
            scope.hold(disk, Access.WRITE);
            Files.setLastModifiedTime(claim, FileTime.from(Instant.now().minus(Duration.ofHours(1))));

            ClaimFile.renewAll();

            assertThat(Files.getLastModifiedTime(claim).toInstant())
                    .isAfter(Instant.now().minusSeconds(10));
        }
    }

    private Path disk(String name) throws IOException {
        return Files.write(dir.resolve(name), new byte[4096]).toRealPath();
    }

    private static Path foreignClaim(Path disk, String host, Instant renewed) throws IOException {
        Path claim = ClaimFile.pathOf(disk);
        write(claim, claimFields(host, 4242), renewed);
        return claim;
    }

    /** A claim's draft, as {@code ClaimFile} names one, last written at {@code written}. */
    private static Path draft(Path disk, Instant written) throws IOException {
        Path draft =
                ClaimFile.pathOf(disk).resolveSibling(ClaimFile.pathOf(disk).getFileName() + ".c-1.draft");
        write(draft, claimFields(HostIdentity.name(), 4242), written);
        return draft;
    }

    private static Properties claimFields(String host, long pid) {
        Properties fields = new Properties();
        fields.setProperty("claim", "c-" + host + "-" + pid);
        fields.setProperty("host", host);
        fields.setProperty("boot", "another-boot");
        fields.setProperty("pid", Long.toString(pid));
        fields.setProperty("operation", "merge of /srv/vol1/vm01.avhdx");
        return fields;
    }

    private static void write(Path claim, Properties fields, Instant renewed) throws IOException {
        try (var out = Files.newOutputStream(claim)) {
            fields.store(out, null);
        }
        Files.setLastModifiedTime(claim, FileTime.from(renewed));
    }

    private static Properties read(Path claim) throws IOException {
        Properties properties = new Properties();
        try (var in = Files.newInputStream(claim)) {
            properties.load(in);
        }
        return properties;
    }
}
