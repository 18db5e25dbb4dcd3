package io.chainmerge.cli;

import static org.awaitility.Awaitility.await;

import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Samba server (Debian's samba) on a free loopback port, sharing one folder as {@code vms} to the
 * user root, with its own smb.conf and state under a test folder; and SMB3 clients (smbclient) that open
 * a file and hold it open until told to close it.
 */
final class SambaServer implements AutoCloseable {
    static final String PASSWORD = "chainmerge-test";

    private final Path config;
    private final int port;
    private final Process smbd;

    private SambaServer(Path config, int port, Process smbd) {
        this.config = config;
        this.port = port;
        this.smbd = smbd;
    }

    /** Starts smbd sharing {@code share}; skipped (failed under CI) where Samba or root is missing. */
    static SambaServer start(Path home, Path share) throws Exception {
        boolean installed = Files.isExecutable(Path.of("/usr/sbin/smbd"))
                && Files.isExecutable(Path.of("/usr/bin/smbclient"))
                && Files.isExecutable(Path.of("/usr/bin/smbstatus"));
        if (!installed && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("CI must provide Samba (apt-get install samba smbclient)");
        }
        Assumptions.assumeTrue(installed, "Samba missing (apt-get install samba smbclient)");
        Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")), "smbd needs root to serve files as their owner");
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        for (String folder : List.of("lock", "state", "cache", "private", "run", "ncalrpc")) {
            Files.createDirectories(home.resolve(folder));
        }
        Path config = Files.writeString(
                home.resolve("smb.conf"),
                String.join(
                        "\n",
                        "[global]",
                        "  server role = standalone server",
                        "  smb ports = " + port,
                        "  interfaces = lo",
                        "  bind interfaces only = yes",
                        "  disable netbios = yes",
                        "  server min protocol = SMB3",
                        "  lock directory = " + home.resolve("lock"),
                        "  state directory = " + home.resolve("state"),
                        "  cache directory = " + home.resolve("cache"),
                        "  private dir = " + home.resolve("private"),
                        "  pid directory = " + home.resolve("run"),
                        "  ncalrpc dir = " + home.resolve("ncalrpc"),
                        "  log file = " + home.resolve("log.%m"),
                        "[vms]",
                        "  path = " + share,
                        "  read only = no",
                        ""));
        Process passwd = new ProcessBuilder("smbpasswd", "-c", config.toString(), "-s", "-a", "root")
                .redirectErrorStream(true)
                .start();
        try (OutputStream in = passwd.getOutputStream()) {
            in.write((PASSWORD + "\n" + PASSWORD + "\n").getBytes(StandardCharsets.UTF_8));
        }
        String passwdOutput = new String(passwd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (passwd.waitFor() != 0) {
            throw new AssertionError("smbpasswd failed: " + passwdOutput);
        }
        Process smbd = new ProcessBuilder(
                        "/usr/sbin/smbd", "--foreground", "--no-process-group", "--configfile", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(home.resolve("smbd.out").toFile())
                .start();
        SambaServer server = new SambaServer(config, port, smbd);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return true;
            }
        });
        return server;
    }

    Path config() {
        return config;
    }

    /** An SMB3 client that opens {@code name} on the share and holds it open until closed. */
    Client open(String name) throws IOException {
        Process client = new ProcessBuilder(
                        "smbclient",
                        "//127.0.0.1/vms",
                        "-p",
                        Integer.toString(port),
                        "-U",
                        "root%" + PASSWORD,
                        "-m",
                        "SMB3")
                .redirectErrorStream(true)
                .start();
        client.getOutputStream().write(("open " + name + "\n").getBytes(StandardCharsets.UTF_8));
        client.getOutputStream().flush();
        await().atMost(Duration.ofSeconds(30)).until(() -> status().contains("\"filename\": \"" + name + "\""));
        return new Client(client);
    }

    /** What {@code smbstatus --json} says of this server now. */
    String status() {
        return Oracles.run(List.of("smbstatus", "--json", "--configfile", config.toString()), true)
                .output();
    }

    record Client(Process process) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            try (OutputStream in = process.getOutputStream()) {
                in.write("quit\n".getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // gone already
            }
            process.waitFor();
        }
    }

    @Override
    public void close() {
        // smbd forks a process per connection; none may outlive the test.
        smbd.descendants().forEach(ProcessHandle::destroyForcibly);
        smbd.destroyForcibly();
    }
}
