package dev.corvo.sdk;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The nodes a client or worker talks to: one channel per node (made on first use), the API
 * key on every call, TLS for {@code https://} URLs, and which node to use next: the current
 * URL, the next one after a connection failure, or the leader a hint named.
 *
 * <p>The channels run on an event loop of their own (one daemon thread, started on first
 * use), shut down by {@link #close}: gRPC's shared one lingers for a second after the last
 * channel closes, and a JVM exiting meanwhile waits for its threads (up to 300 ms).
 */
final class Connections implements AutoCloseable {
  static final String DEFAULT_SERVER = "http://127.0.0.1:8080";
  /** A pushed frame holds up to `concurrency` jobs of up to 1 MiB each. */
  private static final int INBOUND_MESSAGE_BYTES_MAX = 128 << 20;
  /** Pings on an idle connection find a dead peer (a partition, a node gone without a FIN). */
  private static final long KEEPALIVE_SECONDS = 30;
  private static final long KEEPALIVE_TIMEOUT_SECONDS = 10;

  /** A node's address: scheme (TLS or not), host and port. */
  record Target(boolean tls, String host, int port) {
    static Target parse(String url) {
      String text = url.strip();
      if (!text.contains("://")) {
        text = "http://" + text;
      }
      URI uri;
      try {
        uri = new URI(text);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("invalid server URL " + url + ": " + e.getMessage(), e);
      }
      String scheme = uri.getScheme().toLowerCase(java.util.Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException("server URL " + url + ": the scheme must be http or https");
      }
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("server URL " + url + " has no host");
      }
      boolean tls = scheme.equals("https");
      String host = uri.getHost();
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      int port = uri.getPort() > 0 ? uri.getPort() : (tls ? 443 : 80);
      return new Target(tls, host, port);
    }

    /** The node a leader hint ({@code host:port}) names, over this target's scheme. */
    Target withHostPort(String hostPort) {
      Target t = parse((tls ? "https://" : "http://") + hostPort);
      return new Target(tls, t.host, t.port);
    }

    @Override
    public String toString() {
      String h = host.contains(":") ? "[" + host + "]" : host;
      return (tls ? "https://" : "http://") + h + ":" + port;
    }
  }

  /** Connection options shared by the client and the worker builders. */
  static final class Settings {
    final List<String> servers = new ArrayList<>();
    String apiKey;
    Path caCert;
    Path clientCert;
    Path clientKey;

    Settings copy() {
      Settings c = new Settings();
      c.servers.addAll(servers);
      c.apiKey = apiKey;
      c.caCert = caCert;
      c.clientCert = clientCert;
      c.clientKey = clientKey;
      return c;
    }

    void servers(String... urls) {
      servers.clear();
      for (String u : urls) {
        Target.parse(u);
        servers.add(u);
      }
    }
  }

  private final List<Target> servers = new ArrayList<>();
  private final ClientInterceptor auth;
  private final ChannelCredentials tlsCredentials;
  private final Map<Target, ManagedChannel> channels = new HashMap<>();
  private EventLoopGroup eventLoop;
  private int index;
  private Target leader;
  private boolean closed;

  Connections(Settings settings) {
    List<String> urls = settings.servers.isEmpty() ? List.of(DEFAULT_SERVER) : settings.servers;
    for (String u : urls) {
      servers.add(Target.parse(u));
    }
    String key = settings.apiKey != null ? settings.apiKey : System.getenv("CORVO_API_KEY");
    auth = key == null || key.isEmpty() ? null : bearer(key);
    tlsCredentials = tls(settings);
  }

  /** The node to use now. */
  synchronized Target current() {
    return leader != null ? leader : servers.get(index);
  }

  /** How many URLs were configured. */
  int size() {
    return servers.size();
  }

  /** {@code target} could not be reached: the next URL is tried (a leader hint is dropped). */
  synchronized void failed(Target target) {
    if (target.equals(leader)) {
      leader = null;
    } else if (target.equals(servers.get(index))) {
      index = (index + 1) % servers.size();
    }
  }

  /** A hint named the leader ({@code host:port}); it is used over the scheme of {@code via}. */
  synchronized void followLeader(Target via, String hostPort) {
    Target t;
    try {
      t = via.withHostPort(hostPort);
    } catch (IllegalArgumentException e) {
      return;
    }
    int known = servers.indexOf(t);
    if (known >= 0) {
      index = known;
      leader = null;
    } else {
      leader = t;
    }
  }

  /** The channel to {@code target}, with the API key on every call. */
  synchronized Channel channel(Target target) {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    ManagedChannel ch = channels.computeIfAbsent(target, this::open);
    return auth == null ? ch : ClientInterceptors.intercept(ch, auth);
  }

  /** Lets the channel to {@code target} dial again now instead of after gRPC's own backoff. */
  synchronized void resetConnectBackoff(Target target) {
    ManagedChannel ch = channels.get(target);
    if (ch != null) {
      ch.resetConnectBackoff();
    }
  }

  private ManagedChannel open(Target t) {
    ChannelCredentials creds = t.tls ? tlsCredentials : InsecureChannelCredentials.create();
    if (eventLoop == null) {
      eventLoop = new NioEventLoopGroup(1, new DefaultThreadFactory("corvo-grpc", true));
    }
    return NettyChannelBuilder.forAddress(t.host, t.port, creds)
        .eventLoopGroup(eventLoop)
        .channelType(NioSocketChannel.class)
        .maxInboundMessageSize(INBOUND_MESSAGE_BYTES_MAX)
        .keepAliveTime(KEEPALIVE_SECONDS, TimeUnit.SECONDS)
        .keepAliveTimeout(KEEPALIVE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .userAgent("corvo-java-sdk")
        .build();
  }

  @Override
  public void close() {
    List<ManagedChannel> open;
    EventLoopGroup loop;
    synchronized (this) {
      closed = true;
      open = new ArrayList<>(channels.values());
      channels.clear();
      loop = eventLoop;
      eventLoop = null;
    }
    for (ManagedChannel ch : open) {
      ch.shutdown();
    }
    for (ManagedChannel ch : open) {
      try {
        if (!ch.awaitTermination(2, TimeUnit.SECONDS)) {
          ch.shutdownNow();
        }
      } catch (InterruptedException e) {
        ch.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    if (loop != null) {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
  }

  private static ChannelCredentials tls(Settings s) {
    if ((s.clientCert == null) != (s.clientKey == null)) {
      throw new IllegalArgumentException("a client certificate needs its key, and a key its certificate");
    }
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    try {
      if (s.caCert != null) {
        b.trustManager(s.caCert.toFile());
      }
      if (s.clientCert != null) {
        b.keyManager(s.clientCert.toFile(), s.clientKey.toFile());
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot load the TLS files: " + e.getMessage(), e);
    }
    return b.build();
  }

  private static ClientInterceptor bearer(String key) {
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        // Never show the key itself.
        throw new IllegalArgumentException("the API key has a character not allowed in a header (position " + i + ")");
      }
    }
    Metadata.Key<String> header = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    String value = "Bearer " + key;
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            headers.put(header, value);
            super.start(listener, headers);
          }
        };
      }
    };
  }
}
