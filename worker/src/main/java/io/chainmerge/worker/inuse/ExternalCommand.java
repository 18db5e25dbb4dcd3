package io.chainmerge.worker.inuse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chainmerge.disk.inuse.ProbeUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** A probe's external command, run with a deadline: its output, or why it could not answer. */
final class ExternalCommand {
    record Result(int exitCode, String output, String errorOutput) {}

    private ExternalCommand() {}

    /**
     * Runs a probe's command ({@code what}, in words) and reads the JSON it prints: a failure, a timeout
     * or output that is not JSON is a probe that cannot look.
     */
    static JsonNode runForJson(
            String probe, String what, List<String> command, String input, Duration timeout, ObjectMapper json)
            throws ProbeUnavailableException {
        Result result = run(probe, command, input, timeout);
        if (result.exitCode() != 0) {
            throw new ProbeUnavailableException(
                    probe,
                    "%s exited %d: %s"
                            .formatted(
                                    what,
                                    result.exitCode(),
                                    result.errorOutput().strip()));
        }
        try {
            return json.readTree(result.output());
        } catch (IOException e) {
            throw new ProbeUnavailableException(
                    probe,
                    "%s printed no JSON: %s".formatted(what, result.output().strip()),
                    e);
        }
    }

    static Result run(String probe, List<String> command, String input, Duration timeout)
            throws ProbeUnavailableException {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new ProbeUnavailableException(probe, "cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        CompletableFuture<String> output = drain(process.getInputStream());
        CompletableFuture<String> errors = drain(process.getErrorStream());
        try (OutputStream stdin = process.getOutputStream()) {
            if (input != null) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // it did not read its input: its answer says what that means
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new ProbeUnavailableException(
                        probe, "%s gave no answer within %ds".formatted(command.get(0), timeout.toSeconds()));
            }
            return new Result(process.exitValue(), output.get(), errors.get());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new ProbeUnavailableException(probe, "interrupted waiting for " + command.get(0), e);
        } catch (ExecutionException e) {
            throw new ProbeUnavailableException(probe, "cannot read what " + command.get(0) + " printed", e);
        }
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
    }
}
