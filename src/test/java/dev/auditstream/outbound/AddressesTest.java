package dev.auditstream.outbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressesTest {

    @ParameterizedTest(name = "{0} is refused as {1}")
    @CsvSource(delimiter = '|', value = {
        "0.0.0.0           | this network",
        "0.255.1.2         | this network",
        "10.0.0.1          | private",
        "10.255.255.255    | private",
        "172.16.0.1        | private",
        "172.31.255.254    | private",
        "192.168.1.1       | private",
        "100.64.0.1        | carrier-grade NAT",
        "100.100.100.200   | carrier-grade NAT",
        "100.127.255.255   | carrier-grade NAT",
        "127.0.0.1         | loopback",
        "127.255.0.9       | loopback",
        "169.254.169.254   | link-local",
        "192.0.0.170       | IETF protocol",
        "198.18.0.1        | benchmarking",
        "198.19.255.255    | benchmarking",
        "224.0.0.1         | multicast",
        "239.255.255.250   | multicast",
        "240.0.0.1         | reserved",
        "255.255.255.255   | broadcast",
        "::                | unspecified",
        "::1               | loopback",
        "::127.0.0.1       | IPv4-compatible",
        "::8.8.8.8         | IPv4-compatible",
        "fc00::1           | unique local",
        "fd00:ec2::254     | unique local",
        "fe80::1           | link-local",
        "fec0::1           | site-local",
        "ff02::1           | multicast",
        "64:ff9b::7f00:1   | loopback",
        "64:ff9b::a9fe:a9fe | link-local",
        "64:ff9b::a00:1    | private",
        "64:ff9b:1::1      | local-use NAT64",
        "2002:7f00:1::1    | loopback",
        "2002:a9fe:a9fe::  | link-local",
        "2002:c0a8:101::   | private",
        "2001:0:a9fe:a9fe::1 | link-local",
        "2001:0:808:808::f5ff:fffe | private",
    })
    void refusedRanges(String address, String reason) throws Exception {
        assertThat(Addresses.refusal(InetAddress.getByName(address))).containsIgnoringCase(reason);
    }

    /** Java reads ::ffff:a.b.c.d as the IPv4 address; other parsers may keep the IPv6 form. */
    @ParameterizedTest
    @ValueSource(strings = {"::ffff:127.0.0.1", "::ffff:10.0.0.1"})
    void ipv4MappedAddressesAreRefusedInEitherForm(String address) throws Exception {
        assertThat(Addresses.refusal(InetAddress.getByName(address))).isNotNull();
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(InetAddress.getByName(address).getAddress(), 0, mapped, 12, 4);
        assertThat(Addresses.refusal(java.net.Inet6Address.getByAddress(null, mapped, -1))).contains("IPv4-mapped");
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.15.255.255", "172.32.0.1",
        "192.0.1.1", "192.169.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255", "93.184.216.34",
        "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "64:ff9b::808:808", "2002:808:808::1",
        "2001:0:808:808::f7f7:f7f7", "::ffff:8.8.8.8"})
    void publicAddressesAreAllowed(String address) throws Exception {
        assertThat(Addresses.refusal(InetAddress.getByName(address))).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"2130706433", "0177.0.0.1", "0x7f.1", "0x7f000001", "127.1", "127.0.1", "0x7f.0.0.1",
        "017700000001", "127.0.0.01", "127.0.0.1.", "1.2.3.4.5", "256.0.0.1", "08.8.8.8", "example.0x10", "0x",
        "1.2.3.4.", "a.b.c.1"})
    void numericHostsThatAreNotFourDecimalNumbersAreAmbiguous(String host) {
        assertThatThrownBy(() -> Addresses.literal(host)).isInstanceOf(UnsafeDestinationException.class)
                .hasMessageContaining("ambiguous");
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1,127.0.0.1", "8.8.8.8,8.8.8.8", "0.0.0.0,0.0.0.0", "[::1],::1", "::1,::1",
        "[2001:db8::1],2001:db8::1", "[::ffff:127.0.0.1],127.0.0.1"})
    void addressesAreReadWithoutAResolver(String host, String address) throws Exception {
        assertThat(Addresses.literal(host)).isEqualTo(InetAddress.getByName(address));
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.com", "splunk.example.com.", "1.2.3.4.nip.io", "0x7f.example", "localhost"})
    void namesAreLeftToTheResolver(String host) {
        assertThat(Addresses.literal(host)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"[::1::2]", "[fe80::1%no-such-interface-xyz]", "1:2"})
    void badIpv6LiteralsAreRefused(String host) {
        assertThatThrownBy(() -> Addresses.literal(host)).isInstanceOf(UnsafeDestinationException.class);
    }
}
