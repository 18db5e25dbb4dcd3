package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.campaign.CampaignRecovery;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignReport.JobView;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.campaign.RecoveryStatus;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.coordinator.Role;
import io.chainmerge.coordinator.Tokens;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The operators' dashboard in a real browser: Debian's chromium, headless, driven by chromedriver, against
 * the embedded broker, a coordinator and three workers. It signs in, follows a campaign live to its end and
 * shows what the API says (merged, bytes, the refused and skipped disks), searches the fleet, and approves a
 * proposed space recovery from the page, which only a role that may operate is offered. Screenshots go to
 * {@code target/dashboard/} (docs/dashboard.md).
 */
class DashboardIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String HOSTILE = "<img src=x onerror=alert(1)>.vhdx";
    private static final Path SCREENSHOTS = Path.of("target", "dashboard");

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static WebDriver browser;
    static String viewerToken;
    static Path principals;

    @BeforeAll
    static void start() throws IOException {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        Assumptions.assumeTrue(
                present || "true".equals(System.getenv("CI")),
                "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver);"
                        + " under CI=true this test runs and fails without them");
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        principals = dir.resolve("principals.yaml");
        Tokens.addPrincipal(
                principals,
                "test-admin",
                List.of(Role.ADMIN),
                null,
                Tokens.sha256Hex(TestPrincipals.ADMIN_TOKEN),
                ChainmergeCommand.JSON);
        viewerToken = Tokens.newToken();
        Tokens.addPrincipal(
                principals,
                "watcher",
                List.of(Role.VIEWER),
                null,
                Tokens.sha256Hex(viewerToken),
                ChainmergeCommand.JSON);
        ChromeOptions options = new ChromeOptions()
                .setBinary(CHROMIUM.toFile())
                // Root in a container: chromium's sandbox needs namespaces it does not get there.
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1600");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void theDashboardFollowsACampaignToItsEndShowsWhatTheApiSaysAndApprovesARecovery() throws Exception {
        Path a1 = Files.createDirectories(dir.resolve("a/vol1"));
        Path a2 = Files.createDirectories(dir.resolve("a/vol2"));
        Path b1 = Files.createDirectories(dir.resolve("b/vol1"));
        Path full = Files.createDirectories(dir.resolve("c/full"));
        new DemoFleet().build(a1, a2, b1, new PrintWriter(new StringWriter()));
        // A volume its worker keeps all in reserve: the merge there is refused for space, with its figures.
        Path big = Chains.root(full.resolve("big.vhdx"), 1, 2);
        Chains.child(full.resolve("big_1.avhdx"), big, 2, 6);
        // A file name is whatever the disk's owner chose: the page must show it as text, never run it.
        Chains.root(a2.resolve(HOSTILE), 3, 1);
        String bootstrap = kafka.bootstrapServers();
        Map<String, Object> coordinatorSettings = new HashMap<>(CampaignScenario.coordinatorSettings(bootstrap));
        coordinatorSettings.put("security.principals-file", principals.toString());
        try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(coordinatorSettings));
                Worker a = Worker.start(WorkerConfig.of(
                        CampaignScenario.workerSettings("pool-a", "host-a", List.of(a1, a2), bootstrap, "0")));
                Worker b = Worker.start(WorkerConfig.of(
                        CampaignScenario.workerSettings("pool-b", "host-b", List.of(b1), bootstrap, "0")));
                Worker c = Worker.start(WorkerConfig.of(
                        CampaignScenario.workerSettings("pool-c", "host-c", List.of(full), bootstrap, "100%")))) {
            String api = "http://127.0.0.1:" + coordinator.httpPort();
            CampaignClient client = new CampaignClient(api, ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            String id = client.submit(
                    """
                    name: browsed
                    pools: [pool-a, pool-b, pool-c]
                    select: {glob: "*.avhdx"}
                    action: merge-to-root
                    limits: {perVolume: 1, perPool: 2}
                    rate: 64MiB/s
                    """);

            // Signing in: the page asks for the token once, then lists the campaigns.
            browser.get(api + "/ui/");
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")))
                    .sendKeys(TestPrincipals.ADMIN_TOKEN);
            browser.findElement(By.id("sign-in-button")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("who"), "test-admin (admin)"));
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-campaign='" + id + "'] a")))
                    .click();

            // Followed live to its end, from the event stream the page reads with its token.
            new WebDriverWait(browser, Duration.ofMinutes(2))
                    .until(ExpectedConditions.textToBe(By.id("stream-state"), "over"));
            CampaignReport report = client.show(id);
            assertThat(report.state()).isEqualTo(CampaignState.FINISHED);
            wait.until(ExpectedConditions.textToBe(By.id("campaign-state"), "finished"));
            screenshot("campaign");

            assertThat(text("total-merged"))
                    .isEqualTo(String.valueOf(report.totals().merged()));
            assertThat(text("total-refused"))
                    .isEqualTo(String.valueOf(report.totals().refused()));
            assertThat(text("total-skipped"))
                    .isEqualTo(String.valueOf(report.totals().skipped()));
            assertThat(text("total-jobs"))
                    .isEqualTo(String.valueOf(report.totals().jobs()));
            assertThat(browser.findElement(By.id("total-bytes-merged")).getDomAttribute("data-bytes"))
                    .isEqualTo(String.valueOf(report.totals().bytesMerged()));
            assertThat(report.totals().merged()).isEqualTo(5);
            // Bytes merged per pool and per volume, drawn over the run from each job's start and duration.
            Map<String, Long> perPool = report.jobs().stream()
                    .filter(j -> j.bytesMerged() > 0)
                    .collect(Collectors.groupingBy(JobView::pool, Collectors.summingLong(JobView::bytesMerged)));
            assertThat(perPool).hasSizeGreaterThan(1);
            for (Map.Entry<String, Long> pool : perPool.entrySet()) {
                assertThat(browser.findElement(
                                        By.cssSelector("#merged-by-pool polyline[data-key='" + pool.getKey() + "']"))
                                .getDomAttribute("data-bytes"))
                        .isEqualTo(String.valueOf(pool.getValue()));
            }
            assertThat(attributes("#merged-by-volume polyline", "data-key"))
                    .isEqualTo(report.jobs().stream()
                            .filter(j -> j.bytesMerged() > 0)
                            .map(j -> j.host() + ":" + j.volume())
                            .collect(Collectors.toSet()));
            assertThat(attributes("#refused tbody tr", "data-child"))
                    .isEqualTo(report.jobs().stream()
                            .filter(j -> j.outcome() == Outcome.REFUSED)
                            .map(JobView::child)
                            .collect(Collectors.toSet()))
                    .hasSize(1);
            assertThat(browser.findElement(By.id("refused")).getText())
                    .contains("insufficient-space")
                    .contains("requiredBytes")
                    .contains("availableBytes");
            assertThat(attributes("#skipped tbody tr", "data-disk"))
                    .isEqualTo(report.skipped().stream().map(CampaignSkip::disk).collect(Collectors.toSet()))
                    .hasSize(3);
            for (JobView job : report.jobs()) {
                WebElement row = browser.findElement(By.cssSelector("#jobs tr[data-job='" + job.jobId() + "']"));
                assertThat(row.getDomAttribute("data-status"))
                        .as(job.jobId())
                        .isEqualTo(job.status().wireName());
            }

            // The fleet: chains as trees, searched by file name; the orphan shown as one.
            browser.get(api + "/ui/#/fleet");
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#fleet .volume")));
            browser.findElement(By.id("search")).sendKeys("lost_1");
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#fleet li.orphan")));
            assertThat(browser.findElements(By.cssSelector("#fleet li[data-path]")))
                    .allSatisfy(
                            li -> assertThat(li.getDomAttribute("data-path")).contains("lost_1"));
            browser.findElement(By.id("search")).sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE, "onerror");
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("fleet"), HOSTILE));
            assertThat(browser.findElements(By.cssSelector("#fleet img"))).isEmpty();
            browser.findElement(By.id("search")).sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE);
            wait.until(
                    d -> d.findElements(By.cssSelector("#fleet li[data-path]")).size() > 3);
            screenshot("fleet");

            // A recovery waiting for approval: offered to an operator's role only, approved from the page.
            String asked = client.submit(
                    """
                    name: asked
                    pools: [pool-c]
                    select: {glob: "*.avhdx"}
                    onInsufficientSpace: ask
                    transplantTo: {pools: [pool-b]}
                    """);
            await().atMost(Duration.ofSeconds(60)).until(() -> client.show(asked).recoveries().stream()
                    .anyMatch(r -> r.status() == RecoveryStatus.PROPOSED));
            CampaignRecovery proposed = client.show(asked).recoveries().get(0);
            browser.get(api + "/ui/#/campaigns/" + asked);
            WebElement approve = wait.until(ExpectedConditions.elementToBeClickable(
                    By.cssSelector("button.approve[data-recovery='" + proposed.recoveryId() + "']")));
            assertThat(browser.findElement(By.id("recoveries")).getText())
                    .contains(proposed.recoveryId())
                    .contains("proposed");
            screenshot("recovery");
            approve.click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("notice"), "Approved"));
            CampaignReport approved = client.show(asked);
            assertThat(approved.recoveries().get(0).status()).isNotEqualTo(RecoveryStatus.PROPOSED);
            assertThat(approved.actions()).anySatisfy(action -> {
                assertThat(action.action()).isEqualTo("approve");
                assertThat(action.principal()).isEqualTo("test-admin");
            });
            assertThat(browser.findElements(By.cssSelector("button.approve"))).isEmpty();

            // A viewer sees the same campaign without the button; the coordinator would refuse it anyway.
            client.submit(
                    """
                    name: asked-again
                    pools: [pool-c]
                    select: {glob: "*.avhdx"}
                    onInsufficientSpace: ask
                    transplantTo: {pools: [pool-b]}
                    """);
            browser.findElement(By.id("sign-out")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")))
                    .sendKeys(viewerToken);
            browser.findElement(By.id("sign-in-button")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("who"), "watcher (viewer)"));
            String again = client.list(List.of()).stream()
                    .filter(r -> "asked-again".equals(r.name()))
                    .findFirst()
                    .orElseThrow()
                    .campaignId();
            await().atMost(Duration.ofSeconds(60)).until(() -> client.show(again).recoveries().stream()
                    .anyMatch(r -> r.status() == RecoveryStatus.PROPOSED));
            browser.get(api + "/ui/#/campaigns/" + again);
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("recoveries"), "proposed"));
            assertThat(browser.findElements(By.cssSelector("button.approve"))).isEmpty();
            client.act(asked, "cancel");
            client.act(again, "cancel");
        }
    }

    @Test
    void aStandingCampaignShowsItsBackupRequestsWithWhatEachWasAnswered() throws Exception {
        Path volume = Files.createDirectories(dir.resolve("r/vol1"));
        Path root = Chains.root(volume.resolve("app.vhdx"), 7, 1);
        Path child = Chains.child(volume.resolve("app_1.avhdx"), root, 8, 1);
        String bootstrap = kafka.bootstrapServers();
        Map<String, Object> coordinatorSettings = new HashMap<>(CampaignScenario.coordinatorSettings(bootstrap));
        coordinatorSettings.put("security.principals-file", principals.toString());
        coordinatorSettings.put("topics.prefix", "dash-backup");
        coordinatorSettings.put("security.backup-sources", List.of("/backup/dash"));
        Map<String, Object> workerSettings =
                new HashMap<>(CampaignScenario.workerSettings("pool-r", "host-r", List.of(volume), bootstrap, "0"));
        workerSettings.put("topics.prefix", "dash-backup");
        try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(coordinatorSettings));
                Worker worker = Worker.start(WorkerConfig.of(workerSettings))) {
            String api = "http://127.0.0.1:" + coordinator.httpPort();
            HttpClient http = HttpClient.newHttpClient();
            for (Map.Entry<String, Path> released :
                    Map.of("app", child, "gone", volume.resolve("gone_1.avhdx")).entrySet()) {
                String event = ChainmergeCommand.JSON
                        .mapper()
                        .writeValueAsString(Map.of(
                                "specversion", "1.0",
                                "id", released.getKey(),
                                "source", "/backup/dash",
                                "type", "io.chainmerge.backup.checkpoint.released",
                                "data",
                                        Map.of(
                                                "pool",
                                                "pool-r",
                                                "disk",
                                                released.getValue().toString())));
                HttpResponse<String> accepted = http.send(
                        HttpRequest.newBuilder(URI.create(api + "/v1/backup-events"))
                                .header("authorization", "Bearer " + TestPrincipals.ADMIN_TOKEN)
                                .header("content-type", "application/cloudevents+json")
                                .POST(HttpRequest.BodyPublishers.ofString(event))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
            }
            CampaignClient client = new CampaignClient(api, ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            String standing = client.list(List.of("standing")).get(0).campaignId();
            String requests = api + "/v1/campaigns/" + standing + "/requests?status=answered";
            JsonNode answered = await().atMost(Duration.ofSeconds(60))
                    .until(
                            () -> ChainmergeCommand.JSON
                                    .mapper()
                                    .readTree(http.send(
                                                    HttpRequest.newBuilder(URI.create(requests))
                                                            .header("authorization", "Bearer " + viewerToken)
                                                            .build(),
                                                    HttpResponse.BodyHandlers.ofString())
                                            .body())
                                    .path("items"),
                            items -> items.size() == 2);

            browser.get(api + "/ui/#/campaigns/" + standing);
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")))
                    .sendKeys(viewerToken);
            browser.findElement(By.id("sign-in-button")).click();
            wait.until(d -> d.findElements(By.cssSelector("#requests-answered tr[data-request]"))
                            .size()
                    == 2);
            screenshot("backup-requests");
            for (JsonNode request : answered) {
                WebElement row = browser.findElement(By.cssSelector("#requests-answered tr[data-request='"
                        + request.path("requestId").asText() + "']"));
                assertThat(row.getDomAttribute("data-outcome"))
                        .isEqualTo(request.path("outcome").path("outcome").asText());
                assertThat(row.getText()).contains(request.path("disk").asText());
            }
            assertThat(attributes("#requests-answered tr[data-request]", "data-outcome"))
                    .containsExactlyInAnyOrder("succeeded", "refused");
            assertThat(browser.findElement(By.id("requests-answered")).getText())
                    .contains("not-found");
        }
    }

    private static String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private static Set<String> attributes(String selector, String attribute) {
        return browser.findElements(By.cssSelector(selector)).stream()
                .map(e -> e.getDomAttribute(attribute))
                .collect(Collectors.toSet());
    }

    private static void screenshot(String name) throws IOException {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(
                shot.toPath(), SCREENSHOTS.resolve(name + ".png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
