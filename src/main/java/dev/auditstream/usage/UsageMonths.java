package dev.auditstream.usage;

import java.time.Clock;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.List;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.FieldError;

/** The {@code month} query parameter of the usage calls: {@code YYYY-MM}, UTC, the current month when absent. */
public final class UsageMonths {

    private static final DateTimeFormatter MONTH = DateTimeFormatter.ofPattern("uuuu-MM")
            .withResolverStyle(ResolverStyle.STRICT);

    private final Clock clock;

    public UsageMonths(Clock clock) {
        this.clock = clock;
    }

    /** Route step: the month's first day ({@code 2026-11-01}); a malformed or future month is a 422 on {@code month}. */
    public String firstDay(String month) {
        YearMonth current = YearMonth.now(clock.withZone(ZoneOffset.UTC));
        if (month == null || month.isBlank()) {
            return current.atDay(1).toString();
        }
        YearMonth parsed;
        try {
            parsed = month.length() == 7 ? YearMonth.parse(month, MONTH) : null;
        } catch (DateTimeParseException e) {
            parsed = null;
        }
        if (parsed == null || parsed.getYear() < 1) {
            throw ApiException.invalid(List.of(FieldError.of("month", "invalid",
                    "month must be a month as YYYY-MM, e.g. 2026-11.")));
        }
        if (parsed.isAfter(current)) {
            throw ApiException.invalid(List.of(FieldError.of("month", "out_of_range",
                    "month must not be after the current month (" + current + ", UTC).")));
        }
        return parsed.atDay(1).toString();
    }
}
