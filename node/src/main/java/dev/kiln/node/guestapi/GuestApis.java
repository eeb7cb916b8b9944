package dev.kiln.node.guestapi;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestApiHandler;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.node.records.ProgramRecords;
import dev.kiln.store.BlobStore;
import dev.kiln.store.records.StoreRecords;
import java.io.IOException;
import java.util.Optional;

/**
 * The node's guest API (docs/guest-api.md): one cache, one proxy to the remote, one relay for
 * posts, shared by every VM; each VM gets its own {@link VmGuestApi} (its program's prefix, its
 * rate). A program that asked for none of it gets no handler, and its VM's API streams are refused.
 */
public final class GuestApis implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GuestApis.class.getName());

    private final GuestApiSettings settings;
    private final ProgramCache cache;
    private final CacheEndpoint cacheEndpoint;
    private final AlephReads reads;
    private final MessagePosts posts;
    private final String version;

    private GuestApis(GuestApiSettings settings, ProgramCache cache, AlephReads reads, MessagePosts posts, String version) {
        this.settings = settings;
        this.cache = cache;
        this.cacheEndpoint = new CacheEndpoint(cache, settings.cache());
        this.reads = reads;
        this.posts = posts;
        this.version = version;
    }

    /** Opens the cache (connecting to Redis when one is given, so a wrong URL fails here, clearly). */
    public static GuestApis open(GuestApiSettings settings, BlobStore blobs, StoreRecords storeRecords, ProgramRecords programs,
                                 String version) throws IOException {
        ProgramCache cache = settings.redis() != null ? RedisCache.open(settings.redis(), settings.cache())
                : new EmbeddedCache(settings.cache());
        LOG.log(System.Logger.Level.INFO, "guest API: cache " + cache.describe() + ", remote "
                + (settings.remote() == null ? "none" : settings.remote()) + ", posting " + (settings.allowPost() ? "allowed" : "off"));
        return new GuestApis(settings, cache, new AlephReads(blobs, storeRecords, programs, settings.remote(),
                settings.remoteTimeout()), new MessagePosts(settings.remote(), settings.remoteTimeout()), version);
    }

    /** The handler for one VM of {@code program}; empty when the program asked for no guest API. */
    public Optional<GuestApiHandler> handlerFor(ResolvedProgram program, String executionId) {
        return handlerFor(program.messageHash(), program.content().address(), GuestApiAccess.of(program.content()), executionId);
    }

    /**
     * The handler for one VM of the message {@code vm} sent by {@code sender} (a program's or an
     * instance's); empty when {@code access} asks for nothing.
     */
    public Optional<GuestApiHandler> handlerFor(ItemHash vm, String sender, GuestApiAccess access, String executionId) {
        if (!access.any()) return Optional.empty();
        return Optional.of(new VmGuestApi(this, vm.value(), sender, executionId, access, settings.requestsPerSecond()));
    }

    public GuestApiSettings settings() {
        return settings;
    }

    ProgramCache cache() {
        return cache;
    }

    CacheEndpoint cacheEndpoint() {
        return cacheEndpoint;
    }

    AlephReads reads() {
        return reads;
    }

    MessagePosts posts() {
        return posts;
    }

    String version() {
        return version;
    }

    @Override
    public void close() {
        cache.close();
    }
}
