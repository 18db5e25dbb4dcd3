package io.chainmerge.cli;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.ParentLink;
import io.chainmerge.disk.ParentPaths;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "inspect",
        header = "Shows a disk's format, type, sizes, identities and parent link.",
        mixinStandardHelpOptions = true,
        description = "Shows what a disk file is: format, type, sizes, identities and its parent link. Reads only.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "a .vhdx, .avhdx, .vhd or .avhd file")
    Path file;

    @Option(names = "--verify", description = "also check every allocation entry and that no structures overlap")
    boolean verify;

    @Mixin
    Output output;

    @Override
    public Integer call() throws Exception {
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            if (verify) {
                disk.verify();
            }
            Map<String, Object> facts = describe(disk);
            if (verify) {
                facts.put("verified", true);
            }
            PrintWriter out = output.out();
            if (output.json()) {
                output.printJson(facts);
            } else {
                for (Map.Entry<String, Object> fact : facts.entrySet()) {
                    out.printf("%-20s %s%n", fact.getKey(), display(fact.getKey(), fact.getValue()));
                }
            }
        }
        return ExitCodes.OK;
    }

    static Map<String, Object> describe(VirtualDisk disk) throws java.io.IOException {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("path", disk.path().toString());
        facts.put("format", disk.format().name());
        facts.put("type", disk.type().name());

        facts.put("virtualSize", disk.virtualSize());
        facts.put("blockSize", disk.blockSize());
        facts.put("logicalSectorSize", disk.logicalSectorSize());
        facts.put("physicalSectorSize", disk.physicalSectorSize());
        facts.put("fileSize", disk.fileSize());
        facts.put("identity", disk.identity().toString());
        facts.put("virtualDiskId", disk.virtualDiskId().toString());
        if (disk.parentLink().isPresent()) {
            ParentLink link = disk.parentLink().get();
            facts.put(
                    "parentPath",
                    ParentPaths.firstExisting(disk.path(), link)
                            .map(Path::toString)
                            .orElse(null));
            facts.put(
                    "parentIdentities",
                    link.acceptedIdentities().stream().map(Object::toString).toList());
            facts.put(
                    "parentPathsRecorded",
                    link.paths().stream()
                            .map(p -> p.kind().name().toLowerCase() + ": " + p.value())
                            .toList());
        }
        facts.put("details", disk.details());
        return facts;
    }

    private static String display(String key, Object value) {
        if (value instanceof Long bytes && (key.endsWith("Size"))) {
            return bytes + " (" + ByteSize.format(bytes) + ")";
        }
        if (value instanceof Integer bytes && key.endsWith("Size")) {
            return bytes + " (" + ByteSize.format(bytes) + ")";
        }
        if (value instanceof List<?> list) {
            return String.join(
                    "\n" + " ".repeat(21), list.stream().map(String::valueOf).toList());
        }
        if (value instanceof Map<?, ?> map) {
            StringBuilder text = new StringBuilder();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                text.append(text.isEmpty() ? "" : "\n" + " ".repeat(21))
                        .append(entry.getKey())
                        .append(" = ")
                        .append(entry.getValue());
            }
            return text.toString();
        }
        return value == null ? "(not found)" : String.valueOf(value);
    }
}
