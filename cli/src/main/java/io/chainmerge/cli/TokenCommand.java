package io.chainmerge.cli;

import io.chainmerge.coordinator.Role;
import io.chainmerge.coordinator.Tokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "token",
        header = "Makes bearer tokens for the coordinator's API.",
        mixinStandardHelpOptions = true,
        description = "Makes bearer tokens for the coordinator's API and the principals-file entries that hold their "
                + "hashes (docs/security.md).",
        subcommands = {TokenCommand.New.class})
final class TokenCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "name a token command (see chainmerge token --help)");
    }

    @Command(
            name = "new",
            header = "Makes a token and its principals-file entry.",
            mixinStandardHelpOptions = true,
            description = "Makes a new random token (256 bits) for a principal, and the entry of the principals file "
                    + "that names it with the token's SHA-256. The token itself is shown (or written) once and kept "
                    + "nowhere else. With --principals-file the entry is added to that file, which a running "
                    + "coordinator reads again.")
    static final class New implements Callable<Integer> {
        @Mixin
        Output output;

        @Option(names = "--name", required = true, description = "the principal's name, as audit records show it")
        String name;

        @Option(
                names = "--role",
                required = true,
                paramLabel = "ROLE",
                description = "viewer, operator, backup-system or admin; repeat for several")
        List<String> roles;

        @Option(
                names = "--source",
                paramLabel = "URI",
                description = "the CloudEvent source a backup-system principal posts for")
        String source;

        @Option(
                names = "--token-file",
                paramLabel = "FILE",
                description = "write the token to FILE (readable by its owner only) instead of printing it")
        Path tokenFile;

        @Option(
                names = "--principals-file",
                paramLabel = "FILE",
                description = "add the entry to this principals file (created if missing) instead of printing it")
        Path principalsFile;

        @Override
        public Integer call() throws Exception {
            List<Role> parsed = roles.stream().map(Role::of).toList();
            if (parsed.contains(Role.BACKUP_SYSTEM) != (source != null)) {
                throw new IllegalArgumentException(
                        source == null
                                ? "a backup-system principal needs --source, the CloudEvent source it posts for"
                                : "--source is for a backup-system principal only");
            }
            String token = Tokens.newToken();
            String hash = Tokens.sha256Hex(token);
            if (tokenFile != null) {
                writeOwnerOnly(tokenFile, token + "\n");
            }
            if (principalsFile != null) {
                Tokens.addPrincipal(principalsFile, name, parsed, source, hash, ChainmergeCommand.JSON);
            }
            String entry = "  - name: " + name + "\n    roles: ["
                    + String.join(", ", parsed.stream().map(Role::wireName).toList()) + "]\n"
                    + (source == null ? "" : "    source: " + source + "\n")
                    + "    tokenSha256: " + hash + "\n";
            if (output.json()) {
                Map<String, Object> answer = new LinkedHashMap<>();
                answer.put("name", name);
                answer.put("roles", parsed.stream().map(Role::wireName).toList());
                answer.put("source", source);
                answer.put("tokenSha256", hash);
                if (tokenFile == null) {
                    answer.put("token", token);
                } else {
                    answer.put("tokenFile", tokenFile.toString());
                }
                if (principalsFile != null) {
                    answer.put("principalsFile", principalsFile.toString());
                }
                output.printJson(answer);
                return ExitCodes.OK;
            }
            var out = output.out();
            if (tokenFile == null) {
                out.println("token (give it to " + name + "; it is not kept anywhere else):");
                out.println("  " + token);
            } else {
                out.println("token written to " + tokenFile);
            }
            if (principalsFile != null) {
                out.println("added " + name + " to " + principalsFile);
            } else {
                out.println("principals-file entry (under principals:):");
                out.print(entry);
            }
            out.flush();
            return ExitCodes.OK;
        }

        private static void writeOwnerOnly(Path file, String text) throws java.io.IOException {
            Files.deleteIfExists(file);
            try {
                Files.createFile(
                        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file); // not a POSIX file system
            }
            Files.writeString(file, text);
        }
    }
}
