package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.security.TlsFiles;
import org.junit.jupiter.api.Test;

class HttpTransportTest {
    static final TlsFiles NONE = TlsFiles.of("", "", "");
    static final TlsFiles SERVES = TlsFiles.of("/etc/chainmerge/tls/api.crt", "/etc/chainmerge/tls/api.key", "");

    @Test
    void loopbackIsEveryAddressOfTheHostBeingALoopbackOne() {
        assertThat(HttpTransport.loopback("127.0.0.1")).isTrue();
        assertThat(HttpTransport.loopback("127.5.6.7")).isTrue();
        assertThat(HttpTransport.loopback("::1")).isTrue();
        assertThat(HttpTransport.loopback("localhost")).isTrue();
        assertThat(HttpTransport.loopback("0.0.0.0")).isFalse();
        assertThat(HttpTransport.loopback("::")).isFalse();
        assertThat(HttpTransport.loopback("10.1.2.3")).isFalse();
        assertThat(HttpTransport.loopback("")).isFalse();
        assertThat(HttpTransport.loopback("no-such-host.invalid")).isFalse();
    }

    @Test
    void aSecurePlainHttpApiIsRefusedOnANetworkUnlessAllowed() {
        assertThat(HttpTransport.of(SERVES, false, "0.0.0.0", false)).isEqualTo(HttpTransport.TLS);
        assertThat(HttpTransport.of(NONE, false, "127.0.0.1", false)).isEqualTo(HttpTransport.PLAIN_LOOPBACK);
        assertThat(HttpTransport.of(NONE, false, "0.0.0.0", true)).isEqualTo(HttpTransport.PLAIN_ALLOWED);
        assertThat(HttpTransport.of(NONE, true, "0.0.0.0", false)).isEqualTo(HttpTransport.PLAIN_INSECURE_MODE);
        assertThatThrownBy(() -> HttpTransport.of(NONE, false, "0.0.0.0", false))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("tls.certificate and tls.key are required");
        assertThatThrownBy(() -> HttpTransport.allows("sometimes"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("http.plaintext is refuse or allow, not \"sometimes\"");
    }
}
