package io.chainmerge.common.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonMappingException;
import io.chainmerge.common.campaign.CampaignSpec.SpacePolicy;
import io.chainmerge.common.json.JsonCodec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The space-recovery settings of a campaign spec: their defaults, and specs that cannot mean anything. */
class CampaignSpecTest {
    private final JsonCodec json = new JsonCodec();

    private CampaignSpec read(String yaml) throws Exception {
        return json.yaml().readValue(yaml, CampaignSpec.class);
    }

    @Test
    void aSpecRefusesMergesThatDoNotFitUnlessToldOtherwise() throws Exception {
        CampaignSpec spec = read("pools: [pool-a]");
        assertThat(spec.onInsufficientSpace()).isEqualTo(SpacePolicy.REFUSE);
        assertThat(spec.moveBack()).isFalse();
        assertThat(spec.scannedPools()).containsExactly("pool-a");
        assertThat(spec.mayReceive("pool-a", "/srv/vol1")).isTrue();
        assertThat(spec.mayReceive("pool-b", "/srv/vol1")).isFalse();
    }

    @Test
    void theTargetsLimitWhereARecoveryMovesDisksAndTheirPoolsAreScannedToo() throws Exception {
        CampaignSpec spec = read(
                """
                pools: [pool-a]
                onInsufficientSpace: ask
                transplantTo: {pools: [pool-a, pool-b], volumes: [/srv/big]}
                moveBack: true
                """);
        assertThat(spec.onInsufficientSpace()).isEqualTo(SpacePolicy.ASK);
        assertThat(spec.scannedPools()).containsExactly("pool-a", "pool-b");
        assertThat(spec.mayReceive("pool-b", "/srv/big")).isTrue();
        assertThat(spec.mayReceive("pool-b", "/srv/big/inner")).isTrue();
        assertThat(spec.mayReceive("pool-b", "/srv/bigger")).isFalse();
        assertThat(spec.mayReceive("pool-c", "/srv/big")).isFalse();
        assertThat(read(json.write(spec))).isEqualTo(spec);
    }

    @Test
    void recoverySettingsThatCannotMeanAnythingAreRefusedWithTheReason() {
        assertRefused("pools: [a]\nonInsufficientSpace: later", "later");
        assertRefused("pools: [a]\nmoveBack: true", "apply only when onInsufficientSpace is transplant or ask");
        assertRefused("pools: [a]\ntransplantTo: {pools: [b]}", "apply only when onInsufficientSpace");
        assertRefused(
                "pools: [a]\nonInsufficientSpace: transplant\ntransplantTo: {pools: [no/slash]}",
                "transplantTo.pools[] may hold only");
        assertRefused(
                "pools: [a]\nonInsufficientSpace: transplant\ntransplantTo: {volumes: [relative/dir]}",
                "transplantTo.volumes[] must be absolute");
        assertRefused("pools: [a]\nonInsufficientSpace: transplant\ntransplantTo: {hosts: [x]}", "hosts");
        assertRefused("pools: [a]\naction: flatten\nonInsufficientSpace: transplant", "a flatten changes no source");
    }

    @Test
    void windowsInTimeAreReadWithTheirZoneAndASpecWithoutThemIsWrittenAsBefore() throws Exception {
        CampaignSpec spec = read(
                """
                pools: [pool-a]
                windows: ["Mon-Fri 22:00-06:00", "Sat-Sun"]
                timeZone: Europe/Paris
                """);
        assertThat(spec.mergeWindows().windows()).containsExactly("Mon-Fri 22:00-06:00", "Sat-Sun");
        assertThat(spec.mergeWindows().contains(java.time.Instant.parse("2026-12-07T21:30:00Z")))
                .isTrue();
        assertThat(read(json.write(spec))).isEqualTo(spec);
        CampaignSpec always = read("pools: [pool-a]");
        assertThat(always.mergeWindows()).isNull();
        assertThat(json.write(always)).doesNotContain("windows").doesNotContain("timeZone");
        assertRefused("pools: [a]\nwindows: [\"Mon-Fry\"]", "\"Fry\" is not a day");
        assertRefused("pools: [a]\nwindows: [Sat]\ntimeZone: Paris", "timeZone");
    }

    private void assertRefused(String yaml, String reason) {
        assertThatThrownBy(() -> read(yaml))
                .isInstanceOf(JsonMappingException.class)
                .satisfies(e -> assertThat(String.valueOf(
                                        e.getCause() == null
                                                ? e.getMessage()
                                                : e.getCause().getMessage())
                                + e.getMessage())
                        .contains(reason));
    }

    @Test
    void aSpecReadsBackAsItIsWrittenSoACampaignCanBeReplayed() throws Exception {
        CampaignSpec spec = read("pools: [pool-a]");
        assertThat(json.mapper().readValue(json.write(spec), CampaignSpec.class))
                .isEqualTo(spec);
    }

    @Test
    void theDefaultTargetsAreTheCampaignsOwnPools() {
        CampaignSpec spec = new CampaignSpec(
                "t",
                List.of("a", "b"),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                SpacePolicy.TRANSPLANT,
                null,
                null);
        assertThat(spec.mayReceive("b", "/any")).isTrue();
        assertThat(spec.scannedPools()).containsExactly("a", "b");
    }
}
