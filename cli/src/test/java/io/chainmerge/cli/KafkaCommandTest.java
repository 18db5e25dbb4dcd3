package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code chainmerge kafka acls} without a cluster: what it prints, and what it refuses. */
class KafkaCommandTest {
    @Test
    void aWorkersAclsReadItsPoolsJobsAndWriteItsReportsAndNothingElse() throws Exception {
        CliTest.Run run = CliTest.chainmerge(
                "kafka", "acls", "--role", "worker", "--pool", "pool-a", "--principal", "User:storage-a", "--json");
        assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.OK);
        List<String> acls = new ArrayList<>();
        for (JsonNode acl : run.json().path("acls")) {
            assertThat(acl.path("permission").asText()).isEqualTo("ALLOW");
            acls.add(acl.path("operation").asText() + " "
                    + acl.path("resourceType").asText() + " " + acl.path("name").asText() + " "
                    + acl.path("patternType").asText());
        }
        assertThat(acls)
                .containsExactlyInAnyOrder(
                        "READ TOPIC chainmerge.jobs.pool-a LITERAL",
                        "CREATE TOPIC chainmerge.jobs.pool-a LITERAL",
                        "WRITE TOPIC chainmerge.results LITERAL",
                        "CREATE TOPIC chainmerge.results LITERAL",
                        "WRITE TOPIC chainmerge.progress LITERAL",
                        "CREATE TOPIC chainmerge.progress LITERAL",
                        "WRITE TOPIC chainmerge.inventory LITERAL",
                        "CREATE TOPIC chainmerge.inventory LITERAL",
                        "WRITE TOPIC chainmerge.dead-letter LITERAL",
                        "CREATE TOPIC chainmerge.dead-letter LITERAL",
                        "READ GROUP chainmerge-pool-pool-a LITERAL");
        assertThat(run.json().path("principal").asText()).isEqualTo("User:storage-a");
        assertThat(run.json().path("applied").asBoolean()).isFalse();
    }

    @Test
    void theCoordinatorsAclsFollowItsGroupAndTopicPrefix() {
        CliTest.Run run = CliTest.chainmerge(
                "kafka",
                "acls",
                "--role",
                "coordinator",
                "--group",
                "blue",
                "--topic-prefix",
                "lab",
                "--principal",
                "User:coordinator");
        assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.OK);
        assertThat(run.out())
                .contains("ACLs of User:coordinator (coordinator)")
                .containsPattern("write\\s+transactional-id\\s+lab-blue\\n")
                .containsPattern("read\\s+group\\s+chainmerge-blue\\n")
                .containsPattern("read\\s+group\\s+lab-blue-leader\\n")
                .containsPattern("write\\s+topic\\s+lab\\.jobs\\.\\*\\n")
                .containsPattern("create\\s+topic\\s+lab\\.\\*\\n")
                .doesNotContain("chainmerge.");
    }

    @Test
    void missingOrMisplacedOptionsAreUsageErrorsThatSayWhat() {
        assertThat(CliTest.chainmerge("kafka", "acls", "--role", "worker", "--principal", "User:w"))
                .satisfies(run -> assertThat(run.exit()).isEqualTo(ExitCodes.USAGE))
                .satisfies(run -> assertThat(run.err()).contains("role worker needs --pool"));
        assertThat(CliTest.chainmerge("kafka", "acls", "--role", "janitor", "--principal", "User:w"))
                .satisfies(run -> assertThat(run.exit()).isEqualTo(ExitCodes.USAGE))
                .satisfies(run -> assertThat(run.err()).contains("unknown role janitor"));
        assertThat(CliTest.chainmerge("kafka", "acls", "--role", "coordinator", "--principal", "storage-a"))
                .satisfies(run -> assertThat(run.exit()).isEqualTo(ExitCodes.USAGE))
                .satisfies(run -> assertThat(run.err()).contains("TYPE:NAME"));
        assertThat(CliTest.chainmerge("kafka", "acls", "--role", "coordinator", "--principal", "User:c", "--apply"))
                .satisfies(run -> assertThat(run.exit()).isEqualTo(ExitCodes.USAGE))
                .satisfies(run -> assertThat(run.err()).contains("--apply needs --bootstrap"));
        assertThat(CliTest.chainmerge(
                        "kafka", "acls", "--role", "worker", "--pool", "p", "--group", "g", "--principal", "User:w"))
                .satisfies(run -> assertThat(run.exit()).isEqualTo(ExitCodes.USAGE));
    }

    @Test
    void aBackupSystemMayPublishEventsAndReadOutcomesOnly() {
        CliTest.Run run = CliTest.chainmerge(
                "kafka", "acls", "--role", "backup-system", "--principal", "User:veeam", "--group", "veeam-outcomes");
        assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.OK);
        assertThat(run.out())
                .containsPattern("write\\s+topic\\s+chainmerge\\.backup-events\\n")
                .containsPattern("read\\s+topic\\s+chainmerge\\.notifications\\n")
                .containsPattern("read\\s+group\\s+veeam-outcomes\\n");
        assertThat(run.out().lines().filter(line -> line.startsWith("  "))).hasSize(3);
    }
}
