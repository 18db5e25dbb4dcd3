package io.chainmerge.disk.inuse;

import java.io.IOException;

/** A probe that could not look, and why: its tool failed, timed out, or may not read what it needs. */
public class ProbeUnavailableException extends IOException {
    private final String probe;

    public ProbeUnavailableException(String probe, String reason) {
        super(reason);
        this.probe = probe;
    }

    public ProbeUnavailableException(String probe, String reason, Throwable cause) {
        super(reason, cause);
        this.probe = probe;
    }

    public String probe() {
        return probe;
    }
}
