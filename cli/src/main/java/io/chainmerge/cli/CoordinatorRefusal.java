package io.chainmerge.cli;

import java.io.IOException;

/** The coordinator refused the caller: 401 (no token, or not a principal's) or 403 (the role does not allow it). */
final class CoordinatorRefusal extends IOException {
    private final int status;

    CoordinatorRefusal(int status, String message) {
        super(message);
        this.status = status;
    }

    int status() {
        return status;
    }
}
