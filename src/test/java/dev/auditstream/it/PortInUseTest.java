package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.auditstream.support.ChildService;
import dev.auditstream.support.RunningService;

/**
 * An instance whose API or management port is taken does not run: it exits with the reason, its embedded database
 * stopped, instead of coming up ready on the other port while the taken one answers for another process.
 */
class PortInUseTest {

    @Test
    void anInstanceWhoseApiPortIsTakenExitsWithTheReason() throws Exception {
        assertExitsWhenTaken("AUDITSTREAM_HTTP_PORT", "api-port-taken");
    }

    @Test
    void anInstanceWhoseManagementPortIsTakenExitsWithTheReason() throws Exception {
        assertExitsWhenTaken("AUDITSTREAM_MANAGEMENT_PORT", "management-port-taken");
    }

    private static void assertExitsWhenTaken(String portSetting, String name) throws Exception {
        Path dataDir = RunningService.newDataDir(name);
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("0.0.0.0", 0));
            assertThatThrownBy(() -> ChildService.start(dataDir, name,
                    Map.of(portSetting, String.valueOf(taken.getLocalPort()))))
                    .hasMessageContaining("the service exited");
        }
        assertThat(Files.readString(dataDir.resolve(name + ".log"))).contains("Could not listen on every port");
        assertThat(ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(dataDir.toString()))
                .map(p -> p.info().commandLine().orElse("")).toList())
                .as("nothing of the instance left running").isEmpty();
    }
}
