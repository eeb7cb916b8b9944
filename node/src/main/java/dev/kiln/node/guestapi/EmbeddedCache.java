package dev.kiln.node.guestapi;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The default cache: in the node's memory, bounded per program and in all. Memory rather than a
 * file because aleph's cache promises no persistence ("its content can be deleted anytime when
 * the program is not running"): a node restart empties it, and nothing needs cleaning on disk.
 * Each program's entries have a lock of their own; no lock is shared between programs.
 */
public final class EmbeddedCache implements ProgramCache {
    private record Entry(byte[] value, long expiresAtNanos) {
    }

    private final CacheLimits limits;
    private final Map<String, Map<String, Entry>> programs = new ConcurrentHashMap<>();
    private final AtomicLong totalBytes = new AtomicLong();

    public EmbeddedCache(CacheLimits limits) {
        this.limits = limits;
    }

    private Map<String, Entry> of(String program) {
        return programs.computeIfAbsent(program, p -> new HashMap<>());
    }

    @Override
    public Optional<byte[]> get(String program, String key) {
        Map<String, Entry> m = of(program);
        synchronized (m) {
            Entry e = m.get(key);
            if (e == null) return Optional.empty();
            if (expired(e)) {
                remove(m, key);
                return Optional.empty();
            }
            return Optional.of(e.value().clone());
        }
    }

    @Override
    public void put(String program, String key, byte[] value) throws CacheFullException {
        Map<String, Entry> m = of(program);
        synchronized (m) {
            purgeExpired(m);
            Entry old = m.get(key);
            long bytes = bytes(m) - (old == null ? 0 : old.value().length) + value.length;
            if (old == null && m.size() >= limits.maxKeys()) {
                throw new CacheFullException("the program's cache holds " + limits.maxKeys()
                        + " keys already: delete some (DELETE /cache/<key>) or wait for them to expire");
            }
            if (bytes > limits.maxBytes()) {
                throw new CacheFullException("the program's cache would hold more than " + limits.maxBytes()
                        + " bytes: delete some keys first");
            }
            long delta = value.length - (old == null ? 0 : old.value().length);
            if (totalBytes.addAndGet(delta) > limits.maxTotalBytes()) {
                totalBytes.addAndGet(-delta);
                throw new CacheFullException("this node's cache is full (" + limits.maxTotalBytes()
                        + " bytes for all programs): try again later");
            }
            m.put(key, new Entry(value.clone(), System.nanoTime() + limits.expiry().toNanos()));
        }
    }

    @Override
    public boolean delete(String program, String key) {
        Map<String, Entry> m = of(program);
        synchronized (m) {
            Entry e = m.get(key);
            if (e == null) return false;
            remove(m, key);
            return !expired(e);
        }
    }

    @Override
    public List<String> keys(String program, String pattern, int limit) {
        Pattern glob = glob(pattern);
        Map<String, Entry> m = of(program);
        List<String> out = new ArrayList<>();
        synchronized (m) {
            purgeExpired(m);
            for (String k : m.keySet()) {
                if (out.size() >= limit) break;
                if (glob.matcher(k).matches()) out.add(k);
            }
        }
        out.sort(null);
        return out;
    }

    @Override
    public String describe() {
        return "embedded (in memory)";
    }

    @Override
    public void close() {
        programs.clear();
        totalBytes.set(0);
    }

    /** Redis's glob as aleph lets programs use it: {@code *} any run, {@code ?} one character. */
    static Pattern glob(String pattern) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            if (c == '*') re.append(".*");
            else if (c == '?') re.append('.');
            else re.append(Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(re.toString());
    }

    private static boolean expired(Entry e) {
        return System.nanoTime() - e.expiresAtNanos() >= 0;
    }

    private void remove(Map<String, Entry> m, String key) {
        Entry e = m.remove(key);
        if (e != null) totalBytes.addAndGet(-e.value().length);
    }

    private void purgeExpired(Map<String, Entry> m) {
        for (String k : List.copyOf(m.keySet())) {
            if (expired(m.get(k))) remove(m, k);
        }
    }

    private static long bytes(Map<String, Entry> m) {
        long n = 0;
        for (Entry e : m.values()) n += e.value().length;
        return n;
    }
}
