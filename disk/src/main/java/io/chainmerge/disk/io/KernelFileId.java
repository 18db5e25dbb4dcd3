package io.chainmerge.disk.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A file as Linux names it in {@code /proc/locks} and in the NFS server's client state: its file system's
 * device numbers and its inode, printed {@code "fd:01:1234"} (major and minor in hexadecimal, the inode
 * in decimal).
 */
public record KernelFileId(long major, long minor, long inode) {

    public static KernelFileId of(Path file) throws IOException {
        Map<String, Object> stat = Files.readAttributes(file, "unix:dev,ino");
        long dev = (Long) stat.get("dev");
        // glibc's encoding of a device number in stat (sys/sysmacros.h)
        long major = ((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL);
        long minor = ((dev >>> 12) & 0xffffff00L) | (dev & 0xffL);
        return new KernelFileId(major, minor, (Long) stat.get("ino"));
    }

    /** The id in the kernel's words, or null for text of another shape. */
    public static KernelFileId parse(String text) {
        String[] parts = text == null ? new String[0] : text.split(":");
        if (parts.length != 3) {
            return null;
        }
        try {
            return new KernelFileId(
                    Long.parseLong(parts[0], 16), Long.parseLong(parts[1], 16), Long.parseUnsignedLong(parts[2]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return "%02x:%02x:%d".formatted(major, minor, inode);
    }
}
