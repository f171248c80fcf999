package dev.auditstream.alerts;

import java.net.URI;
import java.util.Map;
import java.util.Properties;

import org.apache.camel.Endpoint;
import org.apache.camel.component.mail.MailComponent;
import org.apache.camel.component.mail.MailConfiguration;
import org.apache.camel.component.mail.MailEndpoint;

/**
 * The SMTP server alert emails go through ({@code AUDITSTREAM_SMTP_URL}): {@code smtp://host[:port]} (STARTTLS
 * whenever the server offers it) or {@code smtps://host[:port]} (TLS from the start), with an optional user and
 * password given separately. It becomes the camel-mail component the sender route's {@code alert-mail:} step uses,
 * configured here from these typed values: the step's URI names no server.
 */
public record SmtpServer(String protocol, String host, int port, String username, String password) {

    /** The component's name in the routes. */
    public static final String COMPONENT = "alert-mail";

    /** Reads the URL; refuses anything but smtp/smtps with a host, and credentials inside the URL. */
    public static SmtpServer parse(String url, String username, String password) {
        URI uri = URI.create(url);
        String scheme = uri.getScheme();
        if (!("smtp".equals(scheme) || "smtps".equals(scheme)) || uri.getHost() == null) {
            throw new IllegalStateException("AUDITSTREAM_SMTP_URL must be smtp://host[:port] or smtps://host[:port]");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalStateException(
                    "AUDITSTREAM_SMTP_URL carries no credentials: set AUDITSTREAM_SMTP_USER and AUDITSTREAM_SMTP_PASSWORD");
        }
        return new SmtpServer(scheme, uri.getHost(), uri.getPort() > 0 ? uri.getPort() : "smtps".equals(scheme) ? 465 : 25,
                username, password);
    }

    /** Without the password. */
    @Override
    public String toString() {
        return protocol + "://" + host + ":" + port;
    }

    /**
     * The mail component for this server, or for none (null): then nothing is ever queued for email, and the
     * component only stands in for the route's step with a server no message goes to.
     */
    public static MailComponent component(SmtpServer server, int connectionTimeoutMs) {
        final MailConfiguration configuration = new MailConfiguration();
        configuration.setIgnoreUriScheme(true);
        configuration.configureProtocol(server == null ? "smtp" : server.protocol());
        configuration.setHost(server == null ? "localhost" : server.host());
        configuration.setPort(server == null ? 25 : server.port());
        if (server != null && server.username() != null) {
            configuration.setUsername(server.username());
            configuration.setPassword(server.password());
        }
        // the HTML part; the plain text goes as its alternative
        configuration.setContentType("text/html; charset=UTF-8");
        configuration.setConnectionTimeout(connectionTimeoutMs);
        Properties properties = new Properties();
        properties.setProperty("mail.smtp.starttls.enable", "true");
        properties.setProperty("mail.smtp.timeout", String.valueOf(connectionTimeoutMs));
        properties.setProperty("mail.smtps.timeout", String.valueOf(connectionTimeoutMs));
        configuration.setAdditionalJavaMailProperties(properties);
        MailComponent component = new MailComponent() {
            // camel-mail reads a host from the endpoint URI (alert-mail:alerts would be host "alerts"): the server
            // is the configured one, whatever a route's URI says
            @Override
            protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters)
                    throws Exception {
                MailEndpoint endpoint = (MailEndpoint) super.createEndpoint(uri, remaining, parameters);
                endpoint.getConfiguration().setHost(configuration.getHost());
                return endpoint;
            }
        };
        component.setConfiguration(configuration);
        return component;
    }
}
