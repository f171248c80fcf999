package dev.auditstream.delivery;

import java.sql.Connection;
import java.sql.PreparedStatement;

import javax.sql.DataSource;

import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On a clean stop, after the routes have finished their work in flight, gives back every stream and export lease
 * this instance holds, so another instance takes them over at its next poll instead of when the leases run out.
 */
public final class LeaseRelease extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseRelease.class);

    private final DataSource dataSource;
    private final DeliveryWorkers workers;

    public LeaseRelease(DataSource dataSource, DeliveryWorkers workers) {
        this.dataSource = dataSource;
        this.workers = workers;
    }

    @Override
    protected void doStop() {
        try (Connection c = dataSource.getConnection()) {
            for (String table : new String[] {"log_stream", "audit_log_export"}) {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE " + table + " SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?")) {
                    ps.setString(1, workers.owner());
                    int released = ps.executeUpdate();
                    if (released > 0) {
                        LOG.info("Released {} {} lease(s) for another instance to take over", released, table);
                    }
                }
            }
        } catch (Exception e) {
            LOG.warn("Could not release leases; they expire by themselves: {}", e.getMessage());
        }
    }
}
