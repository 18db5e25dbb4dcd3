package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A volume's id: written once, the same to every host that reads it, never half there, never made up. */
class VolumeIdentityTest {
    @TempDir
    Path volume;

    @Test
    void theFirstScanWritesTheIdAndEveryLaterReaderGetsTheSame() throws Exception {
        String first = new VolumeIdentity().of(volume);

        assertThat(first).matches("[0-9a-f-]{36}");
        assertThat(Files.readString(volume.resolve(".chainmerge/volume-id")).strip())
                .isEqualTo(first);
        assertThat(new VolumeIdentity().of(volume)).as("another host").isEqualTo(first);
        try (var names = Files.list(volume.resolve(".chainmerge"))) {
            assertThat(names.map(p -> p.getFileName().toString())).containsExactly("volume-id");
        }
    }

    @Test
    void hostsRacingToWriteItAgreeOnTheOneThatLanded() throws Exception {
        ExecutorService hosts = Executors.newFixedThreadPool(8);
        try {
            List<Callable<String>> scans = IntStream.range(0, 8)
                    .<Callable<String>>mapToObj(i -> () -> new VolumeIdentity().of(volume))
                    .toList();
            Set<String> ids =
                    hosts.invokeAll(scans).stream().map(VolumeIdentityTest::get).collect(Collectors.toSet());
            assertThat(ids).hasSize(1).doesNotContainNull();
        } finally {
            hosts.shutdownNow();
        }
    }

    @Test
    void aFileThatHoldsNoIdGivesNoneAndIsLeftAsItIs() throws Exception {
        Path file = Files.createDirectories(volume.resolve(".chainmerge")).resolve("volume-id");
        Files.writeString(file, "not an id\n");

        assertThat(new VolumeIdentity().of(volume)).isNull();
        assertThat(Files.readString(file)).isEqualTo("not an id\n");
    }

    private static String get(Future<String> future) {
        try {
            return future.get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
