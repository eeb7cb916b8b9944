package dev.kiln.node.guestapi;

import java.net.URI;
import java.time.Duration;

/**
 * The node's guest-API knobs (docs/guest-api.md).
 *
 * @param remote            the aleph-compatible API reads are proxied to when the node lacks an
 *                          item (the node's {@code --remote}); null: only what the node holds
 * @param redis             a Redis server for the cache ({@code redis://[:password@]host:port[/db]});
 *                          null: the embedded, in-memory cache
 * @param allowPost         whether programs may post messages through the node (off by default)
 * @param requestsPerSecond sustained guest-API requests one VM may make (burst: twice that)
 * @param remoteTimeout     how long one proxied request to the remote may take
 * @param cache             the cache's bounds
 */
public record GuestApiSettings(URI remote, URI redis, boolean allowPost, int requestsPerSecond, Duration remoteTimeout,
                               CacheLimits cache) {
    public static final int DEFAULT_REQUESTS_PER_SECOND = 50;
    public static final Duration DEFAULT_REMOTE_TIMEOUT = Duration.ofSeconds(10);

    public GuestApiSettings {
        if (requestsPerSecond < 1) throw new IllegalArgumentException("requestsPerSecond must be at least 1");
        if (remoteTimeout == null) remoteTimeout = DEFAULT_REMOTE_TIMEOUT;
        if (cache == null) cache = CacheLimits.DEFAULTS;
        // With a trailing slash, so "api/v0/..." resolves below the remote's own path.
        if (remote != null && !remote.toString().endsWith("/")) remote = URI.create(remote + "/");
        if (redis != null && !"redis".equals(redis.getScheme())) {
            throw new IllegalArgumentException("the Redis URL must look like redis://host:port, got " + redis);
        }
    }

    public static GuestApiSettings defaults() {
        return new GuestApiSettings(null, null, false, DEFAULT_REQUESTS_PER_SECOND, DEFAULT_REMOTE_TIMEOUT, CacheLimits.DEFAULTS);
    }

    public GuestApiSettings withRemote(URI r) {
        return new GuestApiSettings(r, redis, allowPost, requestsPerSecond, remoteTimeout, cache);
    }

    public GuestApiSettings withRedis(URI r) {
        return new GuestApiSettings(remote, r, allowPost, requestsPerSecond, remoteTimeout, cache);
    }

    public GuestApiSettings withAllowPost(boolean allow) {
        return new GuestApiSettings(remote, redis, allow, requestsPerSecond, remoteTimeout, cache);
    }

    public GuestApiSettings withRequestsPerSecond(int n) {
        return new GuestApiSettings(remote, redis, allowPost, n, remoteTimeout, cache);
    }

    public GuestApiSettings withCache(CacheLimits limits) {
        return new GuestApiSettings(remote, redis, allowPost, requestsPerSecond, remoteTimeout, limits);
    }
}
