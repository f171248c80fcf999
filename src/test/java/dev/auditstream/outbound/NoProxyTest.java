package dev.auditstream.outbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

/** NO_PROXY matching: names with their subdomains, .suffixes, IPs and CIDR blocks, and *. */
class NoProxyTest {

    @Test
    void aNameCoversItselfAndItsSubdomainsButNotLookalikes() {
        NoProxy noProxy = NoProxy.parse("example.com, Internal.Test:8443");
        assertThat(noProxy.bypasses("example.com", null)).isTrue();
        assertThat(noProxy.bypasses("logs.EXAMPLE.com.", null)).isTrue();
        assertThat(noProxy.bypasses("notexample.com", null)).isFalse();
        assertThat(noProxy.bypasses("example.com.attacker.test", null)).isFalse();
        assertThat(noProxy.bypasses("siem.internal.test", null)).isTrue();
    }

    @Test
    void aLeadingDotCoversSubdomainsOnly() {
        NoProxy noProxy = NoProxy.parse(".corp.test,*.lan.test");
        assertThat(noProxy.bypasses("siem.corp.test", null)).isTrue();
        assertThat(noProxy.bypasses("corp.test", null)).isFalse();
        assertThat(noProxy.bypasses("a.b.lan.test", null)).isTrue();
        assertThat(noProxy.bypasses("xcorp.test", null)).isFalse();
    }

    @Test
    void addressesAndBlocksMatchLiteralHostsAndResolvedAddresses() throws Exception {
        NoProxy noProxy = NoProxy.parse("10.0.0.0/8, 192.0.2.7, fd00::/8, [2001:db8::1]");
        assertThat(noProxy.bypasses("10.20.30.40", null)).isTrue();
        assertThat(noProxy.bypasses("11.0.0.1", null)).isFalse();
        assertThat(noProxy.bypasses("192.0.2.7", null)).isTrue();
        assertThat(noProxy.bypasses("192.0.2.8", null)).isFalse();
        assertThat(noProxy.bypasses("[fd12::1]", null)).isTrue();
        assertThat(noProxy.bypasses("[2001:db8::1]", null)).isTrue();
        assertThat(noProxy.bypasses("[2001:db8::2]", null)).isFalse();
        assertThat(noProxy.bypasses("siem.test", InetAddress.getByName("10.1.2.3"))).isTrue();
        assertThat(noProxy.bypasses("siem.test", InetAddress.getByName("93.184.216.34"))).isFalse();
        // an IPv4-mapped address is its IPv4 address; an IPv4 block never matches an IPv6 one
        assertThat(noProxy.bypasses("siem.test", InetAddress.getByName("::ffff:10.0.0.1"))).isTrue();
        assertThat(NoProxy.parse("0.0.0.0/1").bypasses("siem.test", InetAddress.getByName("2001:db8::5"))).isFalse();
    }

    @Test
    void aStarBypassesEverythingAndNothingBypassesNothing() {
        assertThat(NoProxy.parse("*").bypasses("anything.test", null)).isTrue();
        assertThat(NoProxy.parse(null).bypasses("anything.test", null)).isFalse();
        assertThat(NoProxy.parse(" , ").bypasses("127.0.0.1", null)).isFalse();
    }

    @Test
    void entriesThatAreNeitherNamesNorAddressesAreRefused() {
        assertThatThrownBy(() -> NoProxy.parse("exa mple.com")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NoProxy.parse("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NoProxy.parse("10.0.0/8")).isInstanceOf(IllegalArgumentException.class);
    }
}
