package io.chainmerge.worker.inuse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chainmerge.disk.inuse.InUseHolder;
import io.chainmerge.disk.inuse.InUseProbe;
import io.chainmerge.disk.inuse.ProbeUnavailableException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The site's own answer, from {@code in-use.command}: it gets {@code {"files": [...]}} on standard input
 * and answers {@code {"inUse": true|false, "holder": "..."}} on standard output, so a site can ask what
 * only it knows (its Hyper-V hosts, SCVMM, a VDI broker). A command that fails, times out or answers
 * anything else is a probe that cannot look.
 */
public final class HookProbe implements InUseProbe {
    public static final String NAME = "hook";

    private final List<String> command;
    private final Duration timeout;
    private final ObjectMapper json;

    public HookProbe(String commandLine, Duration timeout, ObjectMapper json) {
        this.command = List.of("/bin/sh", "-c", commandLine);
        this.timeout = timeout;
        this.json = json;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<InUseHolder> holders(List<Path> files) throws IOException {
        if (files.isEmpty()) {
            return List.of();
        }
        String question = json.writeValueAsString(
                Map.of("files", files.stream().map(Path::toString).toList()));
        JsonNode answer = ExternalCommand.runForJson(NAME, "in-use.command", command, question, timeout, json);
        if (!answer.path("inUse").isBoolean()) {
            throw new ProbeUnavailableException(
                    NAME,
                    "in-use.command answered %s, not {\"inUse\": true|false, \"holder\": \"...\"}".formatted(answer));
        }
        if (!answer.path("inUse").asBoolean()) {
            return List.of();
        }
        return List.of(new InUseHolder(NAME, files.get(0), answer.path("holder").asText("the site's in-use.command")));
    }
}
