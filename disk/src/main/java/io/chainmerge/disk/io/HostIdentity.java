package io.chainmerge.disk.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This host's name and the identity of its current boot, each read once. */
public final class HostIdentity {
    private static final String NAME = readName();
    private static final String BOOT_ID = read("/proc/sys/kernel/random/boot_id", "unknown-boot");

    private HostIdentity() {}

    /** The host's name (the kernel's, else {@code $HOSTNAME}, else {@code localhost}). */
    public static String name() {
        return NAME;
    }

    /** Changes with every boot: a process id means the same process only within one boot. */
    public static String bootId() {
        return BOOT_ID;
    }

    private static String readName() {
        String name = read("/proc/sys/kernel/hostname", "");
        if (!name.isEmpty()) {
            return name;
        }
        String env = System.getenv("HOSTNAME");
        return env == null || env.isBlank() ? "localhost" : env;
    }

    private static String read(String file, String otherwise) {
        try {
            String text = Files.readString(Path.of(file)).strip();
            return text.isEmpty() ? otherwise : text;
        } catch (IOException e) {
            return otherwise;
        }
    }
}
