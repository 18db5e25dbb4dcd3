package io.chainmerge.disk.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Another process ({@code /bin/sh}) that holds a file open for reading and takes no lock, as a backup agent
 * or a VM with locking off would, until closed: what the open-files probe must see.
 */
public final class OpenFileHolder implements AutoCloseable {
    private final Process process;

    private OpenFileHolder(Process process) {
        this.process = process;
    }

    /** Returns once the file is open in the other process. */
    public static OpenFileHolder open(Path file) throws IOException {
        Process process =
                new ProcessBuilder("/bin/sh", "-c", "exec 3<\"$0\"; echo open; read line", file.toString()).start();
        String line =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (!"open".equals(line)) {
            process.destroyForcibly();
            throw new IOException("the holder could not open " + file + ": " + line);
        }
        return new OpenFileHolder(process);
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.getOutputStream().close();
        process.waitFor();
    }
}
