package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import dev.auditstream.api.ApiKeys;
import dev.auditstream.support.RunningService;

/** A generated API key is shown once on the console and never logged; none is generated for a shared database. */
class ApiKeysTest {

    @Test
    void aGeneratedKeyIsPrintedOnceToTheConsoleAndNeverLogged() throws Exception {
        Path dataDir = RunningService.newDataDir("api-keys");
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        PrintStream console = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setErr(new PrintStream(printed, true, StandardCharsets.UTF_8));
        ApiKeys keys;
        try {
            keys = ApiKeys.load(null, true, dataDir);
            ApiKeys.load(null, true, dataDir);
        } finally {
            System.setErr(console);
            root.detachAppender(logged);
        }
        Matcher key = Pattern.compile("sk_[A-Za-z0-9_-]{32}").matcher(printed.toString(StandardCharsets.UTF_8));
        assertThat(key.find()).as(printed.toString(StandardCharsets.UTF_8)).isTrue();
        String generated = key.group();
        assertThat(key.find()).as("printed once").isFalse();
        assertThat(keys.accepts("Bearer " + generated)).isTrue();
        assertThat(logged.list).noneMatch(event -> event.getFormattedMessage().contains(generated));
        assertThat(Files.readString(dataDir.resolve("api-key.sha256"))).doesNotContain(generated);
    }

    @Test
    void noKeyIsGeneratedWithAnExternalDatabase() throws Exception {
        Path dataDir = RunningService.newDataDir("api-keys-external");
        assertThatThrownBy(() -> ApiKeys.load(" ", false, dataDir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("AUDITSTREAM_API_KEYS must be set when AUDITSTREAM_DB_URL is");
        assertThat(dataDir.resolve("api-key.sha256")).doesNotExist();
        assertThat(ApiKeys.load("sk_configured_key_1, sk_configured_key_2", false, dataDir)
                .accepts("Bearer sk_configured_key_2")).isTrue();
    }
}
