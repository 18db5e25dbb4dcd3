package io.chainmerge.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Code cites the invariants by number ("invariant 6"); docs/architecture.md is where they are written. Every
 * number cited anywhere in the repository's sources, build files, scripts and docs must be one that list has,
 * and nothing may send a reader to a design document outside the repository.
 */
class InvariantCitationsTest {

    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    private static final Path ARCHITECTURE = REPOSITORY.resolve("docs/architecture.md");
    private static final Pattern CITATION = Pattern.compile("\\b[Ii]nvariants? (\\d+(?:(?:, | and | or )\\d+)*)");
    private static final Pattern LISTED = Pattern.compile("(?m)^(\\d+)\\. \\*\\*");
    private static final Set<String> TEXT = Set.of(".java", ".xml", ".md", ".sh", ".yml", ".yaml", ".properties");

    @Test
    void everyInvariantCitedIsWrittenInTheArchitecture() throws IOException {
        Set<Integer> listed = new TreeSet<>();
        Matcher item = LISTED.matcher(section(Files.readString(ARCHITECTURE), "## Invariants"));
        while (item.find()) {
            listed.add(Integer.parseInt(item.group(1)));
        }
        assertThat(listed).as("the numbered invariants of docs/architecture.md").isNotEmpty();

        List<String> citations = new ArrayList<>();
        List<String> unresolved = new ArrayList<>();
        for (Path file : repositoryTextFiles()) {
            Matcher citation = CITATION.matcher(Files.readString(file));
            while (citation.find()) {
                for (String number : citation.group(1).split("\\D+")) {
                    String where = REPOSITORY.relativize(file) + ": invariant " + number;
                    citations.add(where);
                    if (!listed.contains(Integer.parseInt(number))) {
                        unresolved.add(where);
                    }
                }
            }
        }
        assertThat(citations)
                .as("citations found (a scan finding none would prove nothing)")
                .hasSizeGreaterThan(5);
        assertThat(unresolved)
                .as("invariants cited but not in docs/architecture.md")
                .isEmpty();
    }

    @Test
    void nothingCitesADesignDocumentOutsideTheRepository() throws IOException {
        List<String> citing = new ArrayList<>();
        for (Path file : repositoryTextFiles()) {
            if (Files.readString(file).contains("DESIGN.md")) {
                citing.add(REPOSITORY.relativize(file).toString());
            }
        }
        assertThat(citing)
                .as("files citing DESIGN.md, which the repository does not have")
                .isEmpty();
    }

    private static String section(String markdown, String heading) {
        int start = markdown.indexOf("\n" + heading + "\n");
        assertThat(start).as(heading + " in docs/architecture.md").isNotNegative();
        int end = markdown.indexOf("\n## ", start + 1);
        return end < 0 ? markdown.substring(start) : markdown.substring(start, end);
    }

    private static List<Path> repositoryTextFiles() throws IOException {
        try (Stream<Path> files = Files.walk(REPOSITORY)) {
            return files.filter(Files::isRegularFile)
                    .filter(file -> !isSkipped(REPOSITORY.relativize(file)))
                    .filter(file -> TEXT.stream().anyMatch(file.getFileName().toString()::endsWith))
                    .filter(file -> !file.endsWith(Path.of("InvariantCitationsTest.java")))
                    .toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static boolean isSkipped(Path relative) {
        for (Path part : relative) {
            String name = part.toString();
            if (name.equals("target") || name.equals(".git") || name.equals("node_modules")) {
                return true;
            }
        }
        return false;
    }
}
