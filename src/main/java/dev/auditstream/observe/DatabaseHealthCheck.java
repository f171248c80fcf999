package dev.auditstream.observe;

import java.time.Duration;
import java.util.Map;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import dev.auditstream.db.Database;

/** Ready only while PostgreSQL answers: without it nothing can be acknowledged. */
public final class DatabaseHealthCheck extends AbstractHealthCheck {

    private final Database database;

    public DatabaseHealthCheck(Database database) {
        super("auditstream", "database");
        this.database = database;
    }

    @Override
    public boolean isLiveness() {
        // a database outage is not cured by restarting this process
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        if (database.answers(Duration.ofSeconds(2))) {
            builder.up();
        } else {
            builder.message("PostgreSQL does not answer").down();
        }
    }
}
