package io.chainmerge.disk.testing;

import io.chainmerge.disk.inuse.InUseHolder;
import io.chainmerge.disk.inuse.OpenFilesProbe;
import io.chainmerge.disk.inuse.ProbeUnavailableException;
import java.nio.file.Path;
import java.util.List;

/** Runs the open-files probe on the files named, in a JVM of its own (run as another user by a test). */
public final class OpenFilesProbeMain {
    private OpenFilesProbeMain() {}

    public static void main(String[] args) throws Exception {
        try {
            List<InUseHolder> holders = new OpenFilesProbe()
                    .holders(List.of(args).stream().map(Path::of).toList());
            System.out.println("holders: " + holders);
        } catch (ProbeUnavailableException e) {
            System.out.println("unavailable: " + e.getMessage());
        }
    }
}
