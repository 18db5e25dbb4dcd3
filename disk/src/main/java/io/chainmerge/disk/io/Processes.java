package io.chainmerge.disk.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Other processes as Linux shows them in {@code /proc}, for naming who holds a disk file. */
public final class Processes {
    private static final int COMMAND_LENGTH = 160;

    private Processes() {}

    /** A process's command line, shortened for a message; empty when it is gone or hidden. */
    public static String commandLine(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            String command =
                    new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').trim();
            return command.length() <= COMMAND_LENGTH ? command : command.substring(0, COMMAND_LENGTH) + "…";
        } catch (IOException e) {
            return "";
        }
    }
}
