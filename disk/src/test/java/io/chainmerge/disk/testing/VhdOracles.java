package io.chainmerge.disk.testing;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * qemu as an oracle for VHD roots ({@code -f vpc}), used within its limits: never on a differencing VHD,
 * which qemu reads as if it were dynamic, silently wrong.
 *
 * <p>qemu takes a VHD's size from its CHS geometry unless the creator is one it knows to use Current
 * Size (Hyper-V, its own {@code qem2}). The engine keeps Current Size, as Hyper-V does, so files it
 * writes are read here with {@code force_size_calc=current_size}.
 */
public final class VhdOracles {
    private VhdOracles() {}

    /**
     * {@code qemu-img create -f vpc}: qemu rounds the size up to whole CHS cylinders, unless {@code
     * forceSize}, which keeps the size (rounded up to a sector) and marks the file to be read so.
     */
    public static Path qemuCreate(Path file, String subformat, long size, boolean forceSize) {
        String options = "subformat=" + subformat + (forceSize ? ",force_size=on" : "");
        Oracles.qemuImg("create", "-q", "-f", "vpc", "-o", options, file.toString(), String.valueOf(size));
        return file;
    }

    /** Writes {@code length} bytes of {@code pattern} at {@code offset} of a VHD root with qemu-io, and into the model. */
    public static void qemuWrite(Path file, ContentModel model, int pattern, long offset, int length) {
        Oracles.qemuIo(file, "vpc", "write -P " + pattern + " " + offset + " " + length);
        byte[] data = new byte[length];
        Arrays.fill(data, (byte) pattern);
        model.write(offset, data);
    }

    /** The content of a VHD root as qemu reads it, sized by the footer's Current Size. */
    public static Path qemuToRaw(Path vhd, Path raw) {
        Oracles.qemuImg(
                "convert",
                "--image-opts",
                "driver=vpc,force_size_calc=current_size,file.filename=" + vhd,
                "-O",
                "raw",
                raw.toString());
        return raw;
    }
}
