package dev.auditstream.delivery;

import dev.auditstream.destinations.Batch;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.apache.camel.Variable;

import com.fasterxml.jackson.databind.JsonNode;

import dev.auditstream.api.Json;
import dev.auditstream.destinations.DeliveryTarget;
import dev.auditstream.destinations.Destinations;
import dev.auditstream.destinations.StoredEvent;

/**
 * Reads a stream's next events from the log. Only rows below the oldest running transaction's id are read, in
 * (xid, seq) order: an insert that commits late has a smaller xid than rows already visible, and this watermark
 * keeps the cursor from moving past it before it is visible. A read is bounded by rows and by the bytes of the events
 * it returns (the running sum of their sizes, counted in the database), so a worker holds at most that much however
 * large the events are; an event larger than the bound on its own comes alone. While a batch with more after it is
 * being sent, the next one is read on another thread ({@link ReadAhead}), and for destinations that allow it its
 * request formatted (and gzipped) there too, so a drain's database reads, its formatting and its destination's
 * answers overlap.
 */
public final class EventBatches {

    /** {@code more}: another event follows this one (read or not), so the batch may not be the last. */
    static final String NEXT = """
            SELECT xid::text AS position_xid, seq, id, action, occurred_ms, accepted_ms, event, more
            FROM (SELECT xid, seq, id, action,
                         (extract(epoch FROM occurred_at) * 1000)::bigint AS occurred_ms,
                         (extract(epoch FROM accepted_at) * 1000)::bigint AS accepted_ms,
                         event, row_number() OVER log AS n, sum(octet_length(event)) OVER log AS bytes_through,
                         lead(true, 1, false) OVER log AS more
                  FROM audit_event
                  WHERE organization_id = ? AND (xid, seq) > (?::xid8, ?)
                    AND xid < pg_snapshot_xmin(pg_current_snapshot())
                  WINDOW log AS (ORDER BY xid, seq)
                  ORDER BY xid, seq
                  LIMIT ?) next_events
            WHERE n = 1 OR bytes_through <= ?
            ORDER BY xid, seq""";

    private final DataSource dataSource;
    private final int maxBatch;
    private final long maxBytes;
    /** Runs the reads ahead; null when reading ahead is off. */
    private final ExecutorService readers;
    private final Destinations destinations;
    private final Map<String, Predicate<String>> filters = new ConcurrentHashMap<>();

    public EventBatches(DataSource dataSource, int maxBatch, long maxBytes, ExecutorService readers,
                        Destinations destinations) {
        this.dataSource = dataSource;
        this.maxBatch = maxBatch;
        this.maxBytes = maxBytes;
        this.readers = readers;
        this.destinations = destinations;
    }

    /** Route step: a drain's read-ahead, empty. */
    public ReadAhead readAhead() {
        return new ReadAhead();
    }

    /**
     * @param stream the stream row: organization_id, batch_limit, filters, suspect_event_id (the event after the
     *               cursor refused alone: it is read but left out, see {@link Batch#suspect()})
     * @param ahead  the drain's read-ahead: its batch if it starts at the cursor; the next one is read into it, with
     *               its request built where the destination allows ({@link Destinations#preparedAhead})
     * @param target the stream's destination and configuration
     */
    public Batch next(@Variable("stream") Map<String, Object> stream, @Variable("cursorXid") String cursorXid,
                      @Variable("cursorSeq") long cursorSeq, @Variable("readAhead") ReadAhead ahead,
                      @Variable("target") DeliveryTarget target) throws SQLException {
        Batch batch = ahead.take(new Batch.Position(cursorXid, cursorSeq));
        if (batch == null) {
            batch = read(stream, cursorXid, cursorSeq);
        }
        if (readers != null && batch.full()) {
            Batch.Position after = batch.scanned();
            ahead.start(after, CompletableFuture.supplyAsync(() -> {
                try {
                    return destinations.preparedAhead(target, read(stream, after.xid(), after.seq()));
                } catch (SQLException e) {
                    throw new CompletionException(e);
                }
            }, readers));
        }
        return batch;
    }

    private Batch read(Map<String, Object> stream, String cursorXid, long cursorSeq) throws SQLException {
        Number batchLimit = (Number) stream.get("batch_limit");
        String suspectId = (String) stream.get("suspect_event_id");
        int limit = (batchLimit == null ? maxBatch : Math.min(maxBatch, batchLimit.intValue()))
                + (suspectId == null ? 0 : 1);
        StoredEvent suspect = null;
        Predicate<String> wanted = filter((String) stream.get("filters"));
        List<StoredEvent> events = new ArrayList<>(limit);
        Batch.Position scanned = null;
        int rows = 0;
        boolean more = false;
        try (Connection connection = dataSource.getConnection();
             PreparedStatement ps = connection.prepareStatement(NEXT)) {
            ps.setString(1, (String) stream.get("organization_id"));
            ps.setString(2, cursorXid);
            ps.setLong(3, cursorSeq);
            ps.setInt(4, limit);
            ps.setLong(5, maxBytes);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows++;
                    more = rs.getBoolean(8);
                    scanned = new Batch.Position(rs.getString(1), rs.getLong(2));
                    String action = rs.getString(4);
                    StoredEvent event = new StoredEvent(scanned.xid(), scanned.seq(), rs.getString(3), action,
                            Instant.ofEpochMilli(rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6)), rs.getString(7));
                    if (rows == 1 && event.id().equals(suspectId)) {
                        suspect = event;
                    } else if (wanted.test(action)) {
                        events.add(event);
                    }
                }
            }
        }
        if (suspect != null && events.isEmpty()) {
            // nothing after the suspect to learn from yet: wait for more events, the suspect stays undelivered
            return new Batch(events, null, false);
        }
        return new Batch(events, scanned, more, suspect);
    }

    /** {@code {"actions": ["user.*", "document.updated"]}}: an event passes when its action matches a glob. */
    private Predicate<String> filter(String json) {
        return filters.computeIfAbsent(json == null ? "{}" : json, text -> {
            JsonNode actions = Json.object(text.getBytes(StandardCharsets.UTF_8)).path("actions");
            if (!actions.isArray() || actions.isEmpty()) {
                return action -> true;
            }
            List<String> alternatives = new ArrayList<>();
            actions.forEach(glob -> alternatives.add(globToRegex(glob.asText())));
            Pattern pattern = Pattern.compile(String.join("|", alternatives));
            return action -> pattern.matcher(action).matches();
        });
    }

    static String globToRegex(String glob) {
        return Arrays.stream(glob.split("\\*", -1)).map(Pattern::quote).collect(Collectors.joining(".*"));
    }
}
