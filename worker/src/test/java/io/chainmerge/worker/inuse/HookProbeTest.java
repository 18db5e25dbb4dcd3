package io.chainmerge.worker.inuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.disk.inuse.ProbeUnavailableException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The site's in-use.command, as a real shell runs it: what it is asked, and every way it can answer. */
class HookProbeTest {
    private static final ObjectMapper JSON = new JsonCodec().mapper();

    @TempDir
    Path dir;

    private HookProbe hook(String command) {
        return new HookProbe(command, Duration.ofSeconds(2), JSON);
    }

    @Test
    void itIsAskedAboutTheFilesAndItsHolderIsTakenAsItAnswers() throws Exception {
        Path question = dir.resolve("question.json");
        Path disk = Files.createFile(dir.resolve("vm01.avhdx"));
        HookProbe probe = hook("cat > '" + question + "'; echo '{\"inUse\": true, \"holder\": \"VM vm01 on hv-07\"}'");

        assertThat(probe.holders(List.of(disk))).singleElement().satisfies(h -> assertThat(h.holder())
                .isEqualTo("VM vm01 on hv-07"));
        assertThat(JSON.readTree(question.toFile()).path("files").get(0).asText())
                .isEqualTo(disk.toString());
    }

    @Test
    void notInUseIsNoHolder() throws Exception {
        assertThat(hook("cat >/dev/null; echo '{\"inUse\": false}'").holders(List.of(dir)))
                .isEmpty();
    }

    @Test
    void aCommandThatFailsTimesOutOrAnswersSomethingElseCannotLook() {
        assertThatThrownBy(() -> hook("echo 'no WinRM' >&2; exit 3").holders(List.of(dir)))
                .isInstanceOf(ProbeUnavailableException.class)
                .hasMessage("in-use.command exited 3: no WinRM");
        assertThatThrownBy(() -> hook("sleep 10").holders(List.of(dir)))
                .isInstanceOf(ProbeUnavailableException.class)
                .hasMessage("/bin/sh gave no answer within 2s");
        assertThatThrownBy(() -> hook("echo maybe").holders(List.of(dir)))
                .isInstanceOf(ProbeUnavailableException.class)
                .hasMessage("in-use.command printed no JSON: maybe");
        assertThatThrownBy(() -> hook("echo '{\"busy\": 1}'").holders(List.of(dir)))
                .isInstanceOf(ProbeUnavailableException.class)
                .hasMessageContaining("answered {\"busy\":1}, not {\"inUse\": true|false");
    }

    @Test
    void theSettingsAreCheckedWhenRead() {
        assertThatThrownBy(() -> InUseSettings.of(java.util.Map.of("in-use.probes", "open-files,nsf")))
                .hasMessageContaining("unknown probe nsf");
        assertThatThrownBy(() -> InUseSettings.of(java.util.Map.of("in-use.unavailable", "shrug")))
                .hasMessageContaining("in-use.unavailable is refuse or ignore");
        InUseSettings defaults = InUseSettings.of(java.util.Map.of());
        assertThat(defaults.probes()).containsExactly("open-files", "samba", "nfs");
        assertThat(defaults.quiet()).isEqualTo(Duration.ofMinutes(10));
        assertThat(defaults.refuseWhenUnavailable()).isTrue();
    }
}
