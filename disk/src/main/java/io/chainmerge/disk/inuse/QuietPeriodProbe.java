package io.chainmerge.disk.inuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A file written to within the quiet period is taken to be in use: a VM on another host writes without
 * any lock this host could see, but its writes move the file's modification time.
 */
public final class QuietPeriodProbe implements InUseProbe {
    public static final String NAME = "quiet-period";

    private final Duration quiet;
    private final Clock clock;

    public QuietPeriodProbe(Duration quiet, Clock clock) {
        if (quiet.isNegative()) {
            throw new IllegalArgumentException("the quiet period cannot be negative: " + quiet);
        }
        this.quiet = quiet;
        this.clock = clock;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<InUseHolder> holders(List<Path> files) throws IOException {
        Instant now = clock.instant();
        List<InUseHolder> holders = new ArrayList<>();
        for (Path file : files) {
            Instant written = Files.getLastModifiedTime(file).toInstant();
            Duration ago = Duration.between(written, now);
            if (ago.compareTo(quiet) < 0) {
                holders.add(new InUseHolder(
                        NAME,
                        file,
                        "written %ds ago, within the quiet period of %ds (a writer without locks, such as a VM on another host)"
                                .formatted(Math.max(0, ago.toSeconds()), quiet.toSeconds())));
            }
        }
        return holders;
    }
}
