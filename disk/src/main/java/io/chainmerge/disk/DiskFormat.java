package io.chainmerge.disk;

import io.chainmerge.disk.io.DiskChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The two on-disk formats chainmerge handles. */
public enum DiskFormat {
    VHDX(List.of(".vhdx", ".avhdx")),
    VHD(List.of(".vhd", ".avhd"));

    private static final byte[] VHDX_SIGNATURE = "vhdxfile".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VHD_COOKIE = "conectix".getBytes(StandardCharsets.US_ASCII);
    private static final int VHD_FOOTER_SIZE = 512;

    private final List<String> extensions;

    DiskFormat(List<String> extensions) {
        this.extensions = extensions;
    }

    public List<String> extensions() {
        return extensions;
    }

    /** The format a file name asks for, from its extension. */
    public static Optional<DiskFormat> fromFileName(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        for (DiskFormat format : values()) {
            for (String extension : format.extensions) {
                if (name.endsWith(extension)) {
                    return Optional.of(format);
                }
            }
        }
        return Optional.empty();
    }

    /** The format a new file's name asks for; a name of neither format is refused. */
    public static DiskFormat forNewFile(Path file) {
        return fromFileName(file)
                .orElseThrow(() -> new IllegalArgumentException(
                        file + ": the file name must end in .vhdx, .avhdx, .vhd or .avhd to choose a format"));
    }

    /** Whether the file name has one of the extensions of either format. */
    public static boolean isDiskFileName(Path file) {
        return fromFileName(file).isPresent();
    }

    /**
     * The format of an existing file: its signature first (VHDX file type identifier at offset 0, VHD
     * footer copy at offset 0 or footer at the end), then its extension.
     */
    public static DiskFormat detect(Path file) throws IOException {
        // Through the process's one table of open files: a descriptor of its own, closed here, would drop
        // every lock this process holds on the file (a merge's, while a scan looks at its folder).
        try (DiskChannel channel = DiskChannel.open(file, Access.PEEK)) {
            ByteBuffer head = ByteBuffer.allocate(8);
            channel.readAvailable(head, 0);
            if (startsWith(head, VHDX_SIGNATURE)) {
                return VHDX;
            }
            if (startsWith(head, VHD_COOKIE)) {
                return VHD;
            }
            long size = channel.size();
            if (size >= VHD_FOOTER_SIZE) {
                ByteBuffer tail = ByteBuffer.allocate(8);
                channel.readAvailable(tail, size - VHD_FOOTER_SIZE);
                if (startsWith(tail, VHD_COOKIE)) {
                    return VHD;
                }
            }
        }
        return fromFileName(file)
                .orElseThrow(() -> new CorruptDiskException(
                        file, 0, "signature", "neither a VHDX file type identifier nor a VHD footer"));
    }

    private static boolean startsWith(ByteBuffer buffer, byte[] signature) {
        if (buffer.position() < signature.length) {
            return false;
        }
        for (int i = 0; i < signature.length; i++) {
            if (buffer.get(i) != signature[i]) {
                return false;
            }
        }
        return true;
    }
}
