package dev.kiln.node.guestapi;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The cache in a Redis server ({@code kiln node --redis URL}), laid out as aleph's guest API does:
 * key {@code <program item hash>:<key>}, {@code SET ... EX <expiry>}. Connections come from a small
 * pool (at most {@link #MAX_CONNECTIONS} in use), so concurrent programs never queue on one socket.
 * Key counts per program are checked with {@code SCAN} only when a new key is written.
 */
public final class RedisCache implements ProgramCache {
    static final int MAX_CONNECTIONS = 8;
    private static final int TIMEOUT_MILLIS = 5000;

    private final String host;
    private final int port;
    private final String password;
    private final int database;
    private final CacheLimits limits;
    private final LinkedBlockingDeque<RespConnection> idle = new LinkedBlockingDeque<>();
    private final Semaphore inUse = new Semaphore(MAX_CONNECTIONS);
    private final URI shown;

    private interface Call<T> {
        T on(RespConnection c) throws IOException;
    }

    /** Connects once to check the URL, so a wrong one fails the node's start with a clear message. */
    public static RedisCache open(URI url, CacheLimits limits) throws IOException {
        RedisCache c = new RedisCache(url, limits);
        try {
            Object pong = c.call(r -> r.command("PING"));
            if (!"PONG".equals(pong)) throw new IOException("it answered PING with " + pong);
        } catch (IOException e) {
            c.close();
            throw new IOException("cannot use Redis at " + c.shown + ": " + e.getMessage()
                    + "; check --redis (redis://[:password@]host:port[/db]) and that redis-server runs", e);
        }
        return c;
    }

    private RedisCache(URI url, CacheLimits limits) {
        this.host = url.getHost() == null ? "127.0.0.1" : url.getHost();
        this.port = url.getPort() < 0 ? 6379 : url.getPort();
        String info = url.getRawUserInfo();
        this.password = info == null ? null : URLDecoder.decode(info.substring(info.indexOf(':') + 1), StandardCharsets.UTF_8);
        String path = url.getPath() == null ? "" : url.getPath().replace("/", "");
        this.database = path.isEmpty() ? 0 : Integer.parseInt(path);
        this.limits = limits;
        this.shown = URI.create("redis://" + host + ":" + port + "/" + database);
    }

    private static String full(String program, String key) {
        return program + ":" + key;
    }

    @Override
    public Optional<byte[]> get(String program, String key) throws IOException {
        return Optional.ofNullable((byte[]) call(c -> c.command("GET", full(program, key))));
    }

    @Override
    public void put(String program, String key, byte[] value) throws IOException, CacheFullException {
        String k = full(program, key);
        long exists = (Long) call(c -> c.command("EXISTS", k));
        if (exists == 0 && keys(program, "*", limits.maxKeys()).size() >= limits.maxKeys()) {
            throw new CacheFullException("the program's cache holds " + limits.maxKeys()
                    + " keys already: delete some (DELETE /cache/<key>) or wait for them to expire");
        }
        call(c -> c.command("SET", k, value, "EX", limits.expiry().toSeconds()));
    }

    @Override
    public boolean delete(String program, String key) throws IOException {
        return (Long) call(c -> c.command("DEL", full(program, key))) > 0;
    }

    @Override
    public List<String> keys(String program, String pattern, int limit) throws IOException {
        // SCAN, not KEYS: KEYS blocks the whole server while it walks every key.
        String prefix = program + ":";
        String match = escapeGlob(prefix) + pattern.replace("[", "\\[").replace("]", "\\]");
        List<String> out = new ArrayList<>();
        String cursor = "0";
        do {
            String cur = cursor;
            @SuppressWarnings("unchecked")
            List<Object> reply = (List<Object>) call(c -> c.command("SCAN", cur, "MATCH", match, "COUNT", 500));
            cursor = new String((byte[]) reply.get(0), StandardCharsets.UTF_8);
            @SuppressWarnings("unchecked")
            List<Object> batch = (List<Object>) reply.get(1);
            for (Object b : batch) {
                String k = new String((byte[]) b, StandardCharsets.UTF_8);
                if (k.startsWith(prefix) && !out.contains(k.substring(prefix.length()))) out.add(k.substring(prefix.length()));
                if (out.size() >= limit) break;
            }
        } while (!cursor.equals("0") && out.size() < limit);
        out.sort(null);
        return out;
    }

    private static String escapeGlob(String s) {
        return s.replaceAll("([*?\\[\\]\\\\])", "\\\\$1");
    }

    @Override
    public String describe() {
        return "redis " + shown;
    }

    @Override
    public void close() {
        RespConnection c;
        while ((c = idle.poll()) != null) c.close();
    }

    private <T> T call(Call<T> call) throws IOException {
        try {
            if (!inUse.tryAcquire(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                throw new IOException("all " + MAX_CONNECTIONS + " connections to Redis are busy");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a Redis connection", e);
        }
        RespConnection c = idle.pollFirst();
        try {
            if (c == null) c = connect();
            T result = call.on(c);
            idle.offerFirst(c);
            c = null;
            return result;
        } catch (RespConnection.RespError e) {
            // The connection is still in a known state after an error reply.
            idle.offerFirst(c);
            c = null;
            throw e;
        } finally {
            if (c != null) c.close();
            inUse.release();
        }
    }

    private RespConnection connect() throws IOException {
        RespConnection c = new RespConnection(host, port, TIMEOUT_MILLIS);
        try {
            if (password != null && !password.isEmpty()) c.command("AUTH", password);
            if (database != 0) c.command("SELECT", database);
            return c;
        } catch (IOException e) {
            c.close();
            throw e;
        }
    }
}
