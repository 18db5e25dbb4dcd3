package io.chainmerge.cli;

import static io.chainmerge.cli.CliTest.chainmerge;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.VhdxSurgery;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What is not a disk file is refused at once by every command that reads, as invalid input (exit 4)
 * naming the file, before anything opens it: a FIFO (whose open for reading would wait for a writer
 * forever), a directory, a device, a loop of symbolic links. And a file a merge refuses as corrupt is
 * refused by {@code export} and {@code inspect --verify} too, leaving no output behind.
 */
class NotADiskTest {
    private static final List<List<String>> READING_COMMANDS = List.of(
            List.of("inspect"),
            List.of("inspect", "--verify"),
            List.of("export", "OUT"),
            List.of("merge", "--dry-run"),
            List.of("merge"));

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fifo", "directory", "device", "link loop"})
    void aFileThatIsNoRegularFileIsInvalidInputForEveryCommandThatReads(String kind) throws Exception {
        Path file = dir.resolve("x.avhdx");
        String saying =
                switch (kind) {
                    case "fifo" -> {
                        assertThat(new ProcessBuilder("mkfifo", file.toString())
                                        .start()
                                        .waitFor())
                                .isZero();
                        yield "it is a FIFO, not a regular file";
                    }
                    case "directory" -> {
                        Files.createDirectory(file);
                        yield "it is a directory, not a regular file";
                    }
                    case "device" -> {
                        file = Files.createSymbolicLink(file, Path.of("/dev/null"));
                        yield "it is a character device, not a regular file";
                    }
                    default -> {
                        Files.createSymbolicLink(dir.resolve("y.avhdx"), file);
                        Files.createSymbolicLink(file, dir.resolve("y.avhdx"));
                        yield "symbolic links form a loop";
                    }
                };
        for (List<String> command : READING_COMMANDS) {
            Path input = file;
            Object[] args = command.stream()
                    .map(arg -> arg.equals("OUT") ? (Object) dir.resolve("out.raw") : arg)
                    .toList()
                    .toArray();
            Object[] withFile = new Object[args.length + 1];
            withFile[0] = args[0];
            withFile[1] = input;
            System.arraycopy(args, 1, withFile, 2, args.length - 1);

            CliTest.Run run = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> chainmerge(withFile));

            assertThat(run.exit()).as(command + ": " + run.err()).isEqualTo(ExitCodes.INVALID_INPUT);
            assertThat(run.err()).as(command.toString()).contains("x.avhdx", saying);
            assertThat(dir.resolve("out.raw")).doesNotExist();
        }
    }

    @ParameterizedTest(name = "BAT entry {0}")
    @ValueSource(longs = {0x201L, 0x100L})
    void aFileWithAnEntryAMergeRefusesIsRefusedByExportAndInspectVerifyToo(long entry) throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(32L << 20).withBlockSize(1 << 20), 5)
                .write(5)
                .child("base_1.avhdx")
                .write(8);
        try (VhdxSurgery surgery = VhdxSurgery.open(chain.top())) {
            surgery.setBatEntry(5, entry); // reserved bits set (and, for 0x201, an offset on a NOT_PRESENT block)
        }
        byte[] before = Files.readAllBytes(chain.top());
        Path out = dir.resolve("out.raw");

        for (CliTest.Run run : List.of(
                chainmerge("merge", chain.top(), "--dry-run"),
                chainmerge("inspect", chain.top(), "--verify"),
                chainmerge("export", chain.top(), out))) {
            assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.INVALID_INPUT);
            assertThat(run.err()).contains("base_1.avhdx", "BAT entry 5", "reserved bits");
        }
        assertThat(out).doesNotExist();
        assertThat(Files.readAllBytes(chain.top())).isEqualTo(before);
    }
}
