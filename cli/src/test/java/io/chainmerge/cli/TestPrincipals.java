package io.chainmerge.cli;

import io.chainmerge.coordinator.Role;
import io.chainmerge.coordinator.Tokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A principals file with one admin, for the integration tests whose coordinator runs secure as it would
 * anywhere: they call its API with {@link #ADMIN_TOKEN}, a real token, as an operator's CLI would.
 */
final class TestPrincipals {
    static final String ADMIN_TOKEN = Tokens.newToken();

    private static Path file;
    private static Path tokenFile;

    private TestPrincipals() {}

    /** {@link #ADMIN_TOKEN} in a file, for the CLI's --token-file. */
    static synchronized Path adminTokenFile() {
        if (tokenFile == null) {
            try {
                tokenFile = file().resolveSibling("admin.token");
                Files.writeString(tokenFile, ADMIN_TOKEN + "\n");
                tokenFile.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tokenFile;
    }

    static synchronized Path file() {
        if (file == null) {
            try {
                Path dir = Files.createTempDirectory("chainmerge-principals");
                dir.toFile().deleteOnExit();
                file = dir.resolve("principals.yaml");
                Tokens.addPrincipal(
                        file,
                        "test-admin",
                        List.of(Role.ADMIN),
                        null,
                        Tokens.sha256Hex(ADMIN_TOKEN),
                        ChainmergeCommand.JSON);
                file.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return file;
    }
}
