package io.chainmerge.disk.testing;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaAccess;
import com.tngtech.archunit.core.domain.JavaClass;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Java APIs that open a file by its path, for the architecture rule that only the engine's table
 * of open files opens a disk file: any other descriptor of a locked file, closed, would drop the
 * process's POSIX locks on it.
 */
public final class FileOpenings {
    private static final Map<String, Set<String>> OPENING_METHODS = Map.of(
            "java.nio.channels.FileChannel", Set.of("open"),
            "java.nio.channels.AsynchronousFileChannel", Set.of("open"),
            "java.nio.file.Files",
                    Set.of(
                            "newByteChannel",
                            "newInputStream",
                            "newOutputStream",
                            "newBufferedReader",
                            "newBufferedWriter",
                            "readAllBytes",
                            "readString",
                            "readAllLines",
                            "lines",
                            "write",
                            "writeString",
                            "copy"));

    private static final Set<String> OPENING_CLASSES = Set.of(
            "java.io.RandomAccessFile",
            "java.io.FileInputStream",
            "java.io.FileOutputStream",
            "java.io.FileReader",
            "java.io.FileWriter");

    private FileOpenings() {}

    /** The classes (with their nested classes) that open files other than disks, each for a stated reason. */
    public static DescribedPredicate<JavaClass> oneOf(String... classNames) {
        List<String> names = List.of(classNames);
        return DescribedPredicate.describe("one of " + names, javaClass -> names.stream()
                .anyMatch(name ->
                        javaClass.getName().equals(name) || javaClass.getName().startsWith(name + "$")));
    }

    /** A call that opens a file: a method above, or a constructor of a file stream. */
    public static DescribedPredicate<JavaAccess<?>> opensAFile() {
        return DescribedPredicate.describe("open a file by its path", access -> {
            String owner = access.getTargetOwner().getName();
            String name = access.getTarget().getName();
            if (OPENING_CLASSES.contains(owner)) {
                return name.equals("<init>");
            }
            return OPENING_METHODS.getOrDefault(owner, Set.of()).contains(name);
        });
    }
}
