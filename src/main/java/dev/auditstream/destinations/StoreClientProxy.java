package dev.auditstream.destinations;

import org.apache.http.HttpException;
import org.apache.http.HttpHost;
import org.apache.http.HttpRequest;
import org.apache.http.ProtocolException;
import org.apache.http.auth.AuthScope;
import org.apache.http.auth.UsernamePasswordCredentials;
import org.apache.http.client.CredentialsProvider;
import org.apache.http.conn.UnsupportedSchemeException;
import org.apache.http.conn.routing.HttpRoute;
import org.apache.http.conn.routing.HttpRoutePlanner;
import org.apache.http.conn.routing.RouteInfo;
import org.apache.http.impl.client.BasicCredentialsProvider;
import org.apache.http.impl.conn.DefaultSchemePortResolver;
import org.apache.http.protocol.HttpContext;

import com.google.api.client.http.apache.v2.ApacheHttpTransport;
import software.amazon.awssdk.http.apache.ApacheHttpClient;

import dev.auditstream.outbound.EgressProxy;

/**
 * The egress proxy for the object stores' own clients (the AWS SDK's S3 and STS, Google's Cloud Storage and its token
 * endpoint), all on Apache HttpClient 4: every connection not in NO_PROXY is a CONNECT tunnel through the proxy (plain
 * http endpoints too), with Proxy-Authorization Basic when the proxy asks for it. These clients name the host in the
 * CONNECT, so the proxy resolves it: their hosts are the stores' (or the operator's endpoint overrides), never a
 * customer's URL.
 */
public final class StoreClientProxy implements HttpRoutePlanner {

    private final EgressProxy proxy;
    private final HttpHost proxyHost;

    private StoreClientProxy(EgressProxy proxy) {
        this.proxy = proxy;
        this.proxyHost = new HttpHost(proxy.host(), proxy.port(), "http");
    }

    /** The store clients' proxy routing, or null when there is no egress proxy. */
    public static StoreClientProxy of(EgressProxy proxy) {
        return proxy == null ? null : new StoreClientProxy(proxy);
    }

    @Override
    public HttpRoute determineRoute(HttpHost target, HttpRequest request, HttpContext context) throws HttpException {
        HttpHost host;
        try {
            host = target.getPort() > 0 ? target : new HttpHost(target.getHostName(),
                    DefaultSchemePortResolver.INSTANCE.resolve(target), target.getSchemeName());
        } catch (UnsupportedSchemeException e) {
            throw new ProtocolException(e.getMessage(), e);
        }
        boolean secure = "https".equalsIgnoreCase(host.getSchemeName());
        if (proxy.bypasses(host.getHostName(), null)) {
            return new HttpRoute(host, null, secure);
        }
        return new HttpRoute(host, null, proxyHost, secure, RouteInfo.TunnelType.TUNNELLED,
                secure ? RouteInfo.LayerType.LAYERED : RouteInfo.LayerType.PLAIN);
    }

    private CredentialsProvider credentials() {
        BasicCredentialsProvider credentials = new BasicCredentialsProvider();
        if (proxy.username() != null) {
            credentials.setCredentials(new AuthScope(proxy.host(), proxy.port()),
                    new UsernamePasswordCredentials(proxy.username(), proxy.password()));
        }
        return credentials;
    }

    /** The AWS SDK's HTTP client routed through the proxy (null proxy: the SDK's default client). */
    static ApacheHttpClient.Builder awsHttpClient(StoreClientProxy proxy) {
        ApacheHttpClient.Builder builder = ApacheHttpClient.builder();
        return proxy == null ? builder : builder.httpRoutePlanner(proxy).credentialsProvider(proxy.credentials());
    }

    /** Google's HTTP transport routed through the proxy. */
    ApacheHttpTransport googleTransport() {
        return new ApacheHttpTransport(ApacheHttpTransport.newDefaultHttpClientBuilder()
                .setRoutePlanner(this)
                .setDefaultCredentialsProvider(credentials())
                .build());
    }
}
