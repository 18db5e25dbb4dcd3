package io.chainmerge.disk.inuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.io.KernelFileId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NFSv4 probe against the kernel server's state files as Linux writes them (fs/nfsd's {@code
 * clients/ID/info} and {@code states}), laid out in a folder: this machine's kernel has no NFS server
 * to start. The files they name are real, and their device numbers come from {@code stat}, not from the
 * probe's own decoding.
 */
class NfsServerProbeTest {

    @TempDir
    Path dir;

    @Test
    void anOpenAndADelegationHeldByAClientNameTheClientItsAddressAndTheAccess() throws Exception {
        Path child = Files.write(dir.resolve("vm1.avhdx"), new byte[512]).toRealPath();
        Path parent = Files.write(dir.resolve("vm1.vhdx"), new byte[512]).toRealPath();
        Path elsewhere = Files.write(dir.resolve("other.vhdx"), new byte[512]).toRealPath();
        Path nfsd = nfsdWithClient(
                "7",
                """
                clientid: 0x1c6a3f2b659a4e01
                address: "10.0.0.7:780"
                name: "Linux NFSv4.2 hv-01"
                minor version: 2
                Implementation domain: "kernel.org"
                """,
                state(
                        "0x00000001b2f0a15f6c4f0c3d02000000",
                        "open, access: rw, deny: --",
                        child,
                        "owner: \"open id:\\x00\\x00\""),
                state("0x00000001b2f0a15f6c4f0c3d03000000", "deleg, access: r", parent, null),
                state("0x00000001b2f0a15f6c4f0c3d04000000", "open, access: r-, deny: --", elsewhere, "owner: \"x\""));

        List<InUseHolder> holders = new NfsServerProbe(nfsd).holders(List.of(child, parent));

        assertThat(holders)
                .extracting(InUseHolder::probe, InUseHolder::file, InUseHolder::holder)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(
                                "nfs",
                                child,
                                "NFSv4.2 client 10.0.0.7:780 (Linux NFSv4.2 hv-01), open for read and write, denying nothing"),
                        org.assertj.core.groups.Tuple.tuple(
                                "nfs", parent, "NFSv4.2 client 10.0.0.7:780 (Linux NFSv4.2 hv-01), read delegation"));
        assertThatThrownBy(() -> new InUseCheck(List.of(new NfsServerProbe(nfsd)), true).check(List.of(child)))
                .isInstanceOf(GuardRefusal.class)
                .hasMessageContaining("NFSv4.2 client 10.0.0.7:780")
                .hasMessageContaining("nfs probe");
    }

    @Test
    void aFileNoClientHoldsIsFree() throws Exception {
        Path disk = Files.write(dir.resolve("free.vhdx"), new byte[512]).toRealPath();
        Path other = Files.write(dir.resolve("other.vhdx"), new byte[512]).toRealPath();
        Path nfsd = nfsdWithClient("3", "address: \"[fe80::1]:700\"\n", state("0x01", "lock", other, "owner: \"l\""));

        assertThat(new NfsServerProbe(nfsd).holders(List.of(disk))).isEmpty();
    }

    @Test
    void aHostWithoutAKernelNfsServerHasNoClientsToAskAbout() throws Exception {
        Path disk = Files.write(dir.resolve("free.vhdx"), new byte[512]).toRealPath();
        Path empty = Files.createDirectory(dir.resolve("nfsd"));

        assertThat(new NfsServerProbe(empty).holders(List.of(disk))).isEmpty();
        assertThat(new NfsServerProbe(dir.resolve("not-mounted")).holders(List.of(disk)))
                .isEmpty();
    }

    @Test
    void aRunningServerThatDoesNotListItsClientsStateIsABlindSpot() throws Exception {
        Path disk = Files.write(dir.resolve("disk.vhdx"), new byte[512]).toRealPath();
        Path nfsd = Files.createDirectory(dir.resolve("nfsd"));
        Files.writeString(nfsd.resolve("threads"), "8\n");

        assertThatThrownBy(() -> new NfsServerProbe(nfsd).holders(List.of(disk)))
                .isInstanceOf(ProbeUnavailableException.class)
                .hasMessageContaining("does not list its clients' state");
    }

    @Test
    void aStateLineIsReadFieldByFieldWithTheKernelsQuoting() {
        Map<String, String> fields = NfsServerProbe.parseState(
                "- 0x00000002aabbccddeeff001122334455: { type: open, access: r-, deny: -w, superblock: \"fd:01:131\","
                        + " filename: \"vm, \\\"one\\\"/disk\\x0a.avhdx\", owner: \"open id:\\x00\\x01\" }");

        assertThat(fields)
                .containsEntry("type", "open")
                .containsEntry("access", "r-")
                .containsEntry("deny", "-w")
                .containsEntry("superblock", "fd:01:131")
                .containsEntry("filename", "vm, \"one\"/disk\n.avhdx")
                .containsEntry("owner", "open id:\u0000\u0001");
        assertThat(KernelFileId.parse("fd:01:131")).isEqualTo(new KernelFileId(0xfd, 1, 131));
        assertThat(NfsServerProbe.parseState("clientid: 0x1")).isEmpty();
    }

    /** A state line for {@code file}, its superblock as the kernel prints it, from {@code stat}. */
    private static String state(String stateId, String typeAndAccess, Path file, String owner) throws Exception {
        String[] stat = stat(file).split(" ");
        String superblock = "%02x:%02x:%s".formatted(Long.parseLong(stat[0]), Long.parseLong(stat[1]), stat[2]);
        return "- %s: { type: %s, superblock: \"%s\", filename: \"%s/%s\"%s }"
                .formatted(
                        stateId,
                        typeAndAccess,
                        superblock,
                        file.getParent().getFileName(),
                        file.getFileName(),
                        owner == null ? "" : ", " + owner);
    }

    /** The file's device major and minor and its inode, in decimal, as coreutils' stat gives them. */
    private static String stat(Path file) throws Exception {
        Process stat = new ProcessBuilder("stat", "-c", "%Hd %Ld %i", file.toString()).start();
        String out = new String(stat.getInputStream().readAllBytes()).strip();
        assertThat(stat.waitFor()).isZero();
        return out;
    }

    private Path nfsdWithClient(String id, String info, String... states) throws Exception {
        Path nfsd = dir.resolve("nfsd");
        Path client = Files.createDirectories(nfsd.resolve("clients").resolve(id));
        Files.writeString(nfsd.resolve("threads"), "8\n");
        Files.writeString(client.resolve("info"), info);
        Files.writeString(client.resolve("states"), String.join("\n", states) + "\n");
        return nfsd;
    }
}
