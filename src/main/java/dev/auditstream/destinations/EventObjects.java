package dev.auditstream.destinations;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;

import com.fasterxml.jackson.databind.ObjectWriter;

import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;

/**
 * One object per event for the object-store destinations: the event pretty-printed, under a key fixed by stream and
 * event (so a retried upload overwrites instead of duplicating), with the Content-MD5 Object Lock buckets require.
 */
public record EventObjects(String key, byte[] body, String contentMd5) {

    private static final ObjectWriter PRETTY = Json.MAPPER.writerWithDefaultPrettyPrinter();
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("uuuu-MM-dd").withZone(ZoneOffset.UTC);

    /** {@code [bucketPath/]YYYY-MM-DD/{timestamp}_{keySuffix}.json} (S3) or without the day folder (GCS). */
    public static EventObjects of(String streamId, StoredEvent event, String bucketPath, boolean dayFolder) {
        StringBuilder key = new StringBuilder();
        String folder = bucketPath == null ? "" : trimSlashes(bucketPath.strip());
        if (!folder.isEmpty()) {
            key.append(folder).append('/');
        }
        if (dayFolder) {
            key.append(DAY.format(event.acceptedAt())).append('/');
        }
        key.append(Timestamps.iso(event.acceptedAt())).append('_')
                .append(Payloads.keySuffix(streamId, event.id())).append(".json");
        byte[] body = pretty(event.json());
        return new EventObjects(key.toString(), body, md5(body));
    }

    private static byte[] pretty(String json) {
        try {
            return PRETTY.writeValueAsString(Json.MAPPER.readTree(json)).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String md5(byte[] body) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String trimSlashes(String path) {
        int start = 0;
        int end = path.length();
        while (start < end && path.charAt(start) == '/') {
            start++;
        }
        while (end > start && path.charAt(end - 1) == '/') {
            end--;
        }
        return path.substring(start, end);
    }
}
