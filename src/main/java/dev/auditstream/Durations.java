package dev.auditstream;

import java.time.Duration;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesFunction;

/**
 * Durations in configuration are ISO-8601 ({@code PT0.2S}, {@code PT10M}, {@code P7D}); a plain number is
 * milliseconds, as earlier versions' interval settings were. Camel's timers read milliseconds, which the property
 * function {@code {{millis:some.key}}} gives them from such a setting.
 */
public final class Durations implements PropertiesFunction {

    private final CamelContext context;

    Durations(CamelContext context) {
        this.context = context;
    }

    public static Duration parse(String text) {
        String trimmed = text.trim();
        return trimmed.chars().allMatch(Character::isDigit) && !trimmed.isEmpty()
                ? Duration.ofMillis(Long.parseLong(trimmed))
                : Duration.parse(trimmed);
    }

    @Override
    public String getName() {
        return "millis";
    }

    @Override
    public String apply(String key) {
        return String.valueOf(parse(context.resolvePropertyPlaceholders("{{" + key + "}}")).toMillis());
    }
}
