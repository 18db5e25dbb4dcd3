package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.json.JsonCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens, their hashes, and the principals file that keeps the hashes. */
class TokensTest {
    private static final JsonCodec JSON = new JsonCodec();

    @TempDir
    Path dir;

    @Test
    void theHashIsTheSha256OfTheTokenInHex() {
        // FIPS 180-2's example: SHA-256("abc").
        assertThat(Tokens.sha256Hex("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void aNewTokenHas256RandomBitsAndIsNeverTheSameTwice() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String token = Tokens.newToken();
            assertThat(token).startsWith(Tokens.PREFIX).hasSize(Tokens.PREFIX.length() + 43);
            assertThat(seen.add(token)).isTrue();
        }
    }

    @Test
    void aPrincipalIsFoundByItsTokenAndByNoOther() throws Exception {
        Path file = dir.resolve("principals.yaml");
        String ops = Tokens.newToken();
        String vbr = Tokens.newToken();
        Tokens.addPrincipal(file, "ops", List.of(Role.OPERATOR), null, Tokens.sha256Hex(ops), JSON);
        Tokens.addPrincipal(file, "vbr", List.of(Role.BACKUP_SYSTEM), "/backup/vbr", Tokens.sha256Hex(vbr), JSON);
        Principals principals = Principals.read(file, JSON);

        assertThat(principals.authenticate(ops))
                .hasValueSatisfying(p -> assertThat(p.name()).isEqualTo("ops"));
        assertThat(principals.authenticate(vbr))
                .hasValueSatisfying(p -> assertThat(p.source()).isEqualTo("/backup/vbr"));
        assertThat(principals.authenticate(Tokens.sha256Hex(ops))).isEmpty(); // the hash is not the token
        assertThat(principals.authenticate(ops + "x")).isEmpty();
        assertThat(principals.authenticate("")).isEmpty();
        assertThat(principals.boundSources()).containsExactly("/backup/vbr");
        assertThat(Files.readString(file)).doesNotContain(ops).doesNotContain(vbr);
    }

    @Test
    void aWrongPrincipalsFileIsRefusedWithWhatIsWrong() throws Exception {
        String hash = Tokens.sha256Hex("t");
        assertRefused("principals: []", "lists no principals");
        assertRefused("principals: [{name: a, roles: [viewer], tokenSha256: abc}]", "64 hex digits");
        assertRefused("principals: [{name: a, roles: [], tokenSha256: " + hash + "}]", "has no roles");
        assertRefused("principals: [{name: a, roles: [superuser], tokenSha256: " + hash + "}]", "unknown role");
        assertRefused("principals: [{name: a, roles: [backup-system], tokenSha256: " + hash + "}]", "needs the source");
        assertRefused(
                "principals: [{name: a, roles: [viewer], source: /x, tokenSha256: " + hash + "}]",
                "only a backup-system principal has a source");
        assertRefused(
                "principals: [{name: a, roles: [viewer], tokenSha256: " + hash + "}, {name: a, roles: [viewer], "
                        + "tokenSha256: " + Tokens.sha256Hex("u") + "}]",
                "the name is used twice");
        assertRefused(
                "principals: [{name: a, roles: [viewer], tokenSha256: " + hash + "}, {name: b, roles: [viewer], "
                        + "tokenSha256: " + hash + "}]",
                "its token is another principal's");
        assertRefused(
                "principals: [{name: a, roles: [viewer], tokenSHA: " + hash + "}]", "not a valid principals file");
        assertThatThrownBy(() -> Principals.read(dir.resolve("missing.yaml"), JSON))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("does not exist");
        assertRefused("principals: [{name: a, roles: [viewer]}]", "or certificate: the client certificate's name");
        assertRefused("principals: [{name: a, roles: [viewer], certificate: \"DNS:\"}]", "names nothing after DNS:");
        assertRefused("principals: [{name: a, roles: [viewer], certificate: \"IP:beef\"}]", "not an IP address");
        assertRefused("principals: [{name: a, roles: [viewer], certificate: \"ops\"}]", "neither a distinguished name");
        assertRefused(
                "principals: [{name: a, roles: [viewer], certificate: \"CN=ops, O=Example\"}, "
                        + "{name: b, roles: [operator], certificate: \"cn=OPS,o=Example\"}]",
                "its certificate names another principal too");
    }

    @Test
    void aPrincipalKnownByCertificateOnlyIsOpenedByNoToken() throws Exception {
        Path file = dir.resolve("certificates.yaml");
        Files.writeString(
                file,
                "principals:\n"
                        + "  - {name: ops, roles: [operator], certificate: \"CN=ops,O=Example\"}\n"
                        + "  - {name: grafana, roles: [viewer], certificate: \"DNS:grafana.example\", tokenSha256: "
                        + Tokens.sha256Hex("g") + "}\n");
        Principals principals = Principals.read(file, JSON);
        assertThat(principals.all()).extracting(Principals.Principal::name).containsExactly("ops", "grafana");
        assertThat(principals.authenticate("")).isEmpty();
        assertThat(principals.authenticate("g")).map(Principals.Principal::name).contains("grafana");
        assertThat(principals.all().get(0).certificate()).hasToString("cn=ops,o=example");
    }

    @Test
    void addingAPrincipalWhoseNameIsTakenChangesNothing() throws Exception {
        Path file = dir.resolve("principals.yaml");
        Tokens.addPrincipal(file, "ops", List.of(Role.OPERATOR), null, Tokens.sha256Hex("a"), JSON);
        String before = Files.readString(file);
        assertThatThrownBy(
                        () -> Tokens.addPrincipal(file, "ops", List.of(Role.ADMIN), null, Tokens.sha256Hex("b"), JSON))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has a principal ops already");
        assertThat(Files.readString(file)).isEqualTo(before);
    }

    private void assertRefused(String yaml, String problem) throws Exception {
        Path file = Files.writeString(dir.resolve("p" + System.nanoTime() + ".yaml"), yaml);
        assertThatThrownBy(() -> Principals.read(file, JSON))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("security.principals-file")
                .hasMessageContaining(problem);
    }
}
