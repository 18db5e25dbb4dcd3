package io.chainmerge.common.message;

/** The schema version every chainmerge message carries, and the checks shared by their constructors. */
public final class Schema {
    /** The version this build writes and reads; a reader refuses a version it does not know. */
    public static final int VERSION = 1;

    private Schema() {}

    static void checkVersion(int version) {
        if (version != VERSION) {
            throw new IllegalArgumentException(
                    "schemaVersion " + version + " is not supported (this build reads " + VERSION + ")");
        }
    }

    static String require(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + " is required");
        }
        return value;
    }

    static <T> T require(T value, String field) {
        if (value == null) {
            throw new IllegalArgumentException(field + " is required");
        }
        return value;
    }

    /** A path a job names on a worker's host: absolute, so it means one file whatever the worker's folder. */
    static String absolutePath(String value, String field) {
        require(value, field);
        if (!value.startsWith("/")) {
            throw new IllegalArgumentException(field + " must be an absolute path: " + value);
        }
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(field + " contains a NUL character");
        }
        return value;
    }

    static String optionalPath(String value, String field) {
        return value == null ? null : absolutePath(value, field);
    }

    /** A pool name is part of a topic name: letters, digits, dashes and underscores. */
    public static String poolName(String value, String field) {
        require(value, field);
        if (!value.matches("[A-Za-z0-9_-]{1,100}")) {
            throw new IllegalArgumentException(field + " may hold only letters, digits, - and _: " + value);
        }
        return value;
    }
}
