-- A log stream as the API answers it. A repeatable migration: Flyway runs it again whenever it changes, after the
-- versioned ones, so the view has one definition here (V2 created it first).
CREATE OR REPLACE VIEW log_stream_json AS
SELECT s.id,
       s.organization_id,
       json_build_object(
           'object', 'log_stream',
           'id', s.id,
           'organization_id', s.organization_id,
           'type', s.type,
           'name', s.name,
           'state', s.state,
           'state_reason', s.state_reason,
           -- what will stop the stream soon though it delivers now: a mutual TLS client certificate that expires
           -- within 14 days (its end of validity is kept in the config by the config check)
           'warnings', CASE
               WHEN (s.config #>> '{auth,clientCertificateExpiresAt}')::timestamptz < now() + interval '14 days'
               THEN json_build_array('The client certificate expires at '
                                     || iso_ms((s.config #>> '{auth,clientCertificateExpiresAt}')::timestamptz)
                                     || '; give a renewed config.auth.clientCertificate and clientKey before then.')
               ELSE json_build_array() END,
           'config', s.config,
           'filters', s.filters,
           'last_synced_at', iso_ms(s.last_synced_at),
           'last_error', s.last_error,
           'lag', coalesce((SELECT floor(extract(epoch FROM now() - e.accepted_at))::bigint
                            FROM audit_event e
                            WHERE e.organization_id = s.organization_id
                              AND (e.xid, e.seq) > (s.cursor_xid, s.cursor_seq)
                            ORDER BY e.xid, e.seq LIMIT 1), 0),
           -- refused events waiting to be sent again (POST /log_streams/{id}/dead_letters/redrive)
           'dead_letters', (SELECT count(*) FROM log_stream_delivery d
                            WHERE d.stream_id = s.id AND d.outcome IN ('dead_lettered', 'redriving')),
           -- events retention deleted before this stream delivered them
           'expired_undelivered', s.expired_undelivered,
           'created_at', iso_ms(s.created_at),
           'updated_at', iso_ms(s.updated_at))::text AS json
FROM log_stream s;
