package io.chainmerge.disk.testing;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Repoint;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeRequest;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs one engine operation in a separate JVM, so a test can kill it (or let a crash point halt it)
 * and look at what it leaves behind:
 *
 * <pre>
 * merge CHILD [DESTINATION] [RATE]   merge in place
 * flatten CHILD NEWFILE [RATE]       flatten CHILD's chain into a new dynamic disk
 * write FILE OFFSET DATAFILE          write bytes into a disk
 * set-parent CHILD PARENT             re-point a child at its parent's new location
 * open-write FILE                     open for writing (replays a pending log), then close
 * hold FILE                           hold FILE open for writing until standard input closes
 * </pre>
 *
 * <p>A guard's refusal exits with {@value #REFUSED}, printing its reason and message, as the CLI does.
 */
public final class EngineMain {
    /** The exit status of an operation a guard refused (the CLI's too). */
    public static final int REFUSED = 3;

    private EngineMain() {}

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (GuardRefusal refusal) {
            System.out.println("refused: " + refusal.guard().reason() + ": " + refusal.getMessage());
            System.out.flush();
            System.exit(REFUSED);
        }
    }

    private static void run(String[] args) throws Exception {
        switch (args[0]) {
            case "merge" -> {
                MergeRequest request = MergeRequest.of(Path.of(args[1]));
                if (args.length > 2 && !args[2].equals("-")) {
                    request = request.withDestination(Path.of(args[2]));
                }
                if (args.length > 3) {
                    request = request.withRate(Long.parseLong(args[3]));
                }
                Merge.run(request, (done, total) -> {});
            }
            case "flatten" -> {
                MergeRequest request =
                        MergeRequest.of(Path.of(args[1])).withIntoNew(Path.of(args[2]), DiskType.DYNAMIC);
                if (args.length > 3) {
                    request = request.withRate(Long.parseLong(args[3]));
                }
                Merge.run(request, (done, total) -> {});
            }
            case "write" -> {
                try (VirtualDisk disk = DiskFiles.open(Path.of(args[1]), Access.WRITE)) {
                    disk.write(Long.parseLong(args[2]), ByteBuffer.wrap(Files.readAllBytes(Path.of(args[3]))));
                }
            }
            case "set-parent" -> Repoint.setParent(Path.of(args[1]), Path.of(args[2]));
            case "open-write" -> {
                try (VirtualDisk disk = DiskFiles.open(Path.of(args[1]), Access.WRITE)) {
                    disk.commit();
                }
            }
            case "hold" -> {
                try (VirtualDisk disk = DiskFiles.open(Path.of(args[1]), Access.WRITE)) {
                    System.out.println("holding " + disk.path());
                    System.out.flush();
                    while (System.in.read() >= 0) {
                        // wait for the test to close our standard input
                    }
                }
            }
            default -> throw new IllegalArgumentException("unknown operation " + args[0]);
        }
    }
}
