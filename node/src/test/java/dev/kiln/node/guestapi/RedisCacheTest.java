package dev.kiln.node.guestapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Redis-backed cache against a real redis-server (with a password, in database 3). */
class RedisCacheTest {
    static final String PASSWORD = "guest-api-test";
    @TempDir
    static Path dir;
    static RedisServer redis;
    static RedisCache cache;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), PASSWORD);
        cache = RedisCache.open(redis.url(PASSWORD, 3), CacheLimits.DEFAULTS.withExpiry(Duration.ofSeconds(1)).withMaxKeys(5));
    }

    @AfterAll
    static void stop() {
        if (cache != null) cache.close();
        if (redis != null) redis.close();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void setGetDeleteAndListUnderTheProgramsPrefix() throws Exception {
        cache.put("progA", "alpha", b("1"));
        cache.put("progA", "alpine", b("2"));
        cache.put("progA", "beta", new byte[] {0, (byte) 0xff, 13, 10});
        assertThat(cache.get("progA", "beta")).hasValueSatisfying(v -> assertThat(v).containsExactly(0, 0xff, 13, 10));
        assertThat(cache.keys("progA", "alp*", 100)).containsExactly("alpha", "alpine");
        assertThat(cache.keys("progA", "?eta", 100)).containsExactly("beta");
        assertThat(cache.delete("progA", "alpha")).isTrue();
        assertThat(cache.delete("progA", "alpha")).isFalse();
        assertThat(cache.get("progA", "alpha")).isEmpty();
        // laid out as aleph's guest API lays it out: <program>:<key>
        try (RespConnection c = new RespConnection("127.0.0.1", redis.port, 1000)) {
            c.command("AUTH", PASSWORD);
            c.command("SELECT", 3);
            assertThat(new String((byte[]) c.command("GET", "progA:alpine"), StandardCharsets.UTF_8)).isEqualTo("2");
        }
    }

    @Test
    void anotherProgramSeesNothing() throws Exception {
        cache.put("progB", "mine", b("b's"));
        assertThat(cache.get("progC", "mine")).isEmpty();
        assertThat(cache.keys("progC", "*", 100)).isEmpty();
        assertThat(cache.keys("progB", "*", 100)).containsExactly("mine");
    }

    @Test
    void entriesExpire() throws Exception {
        cache.put("progD", "soon", b("gone"));
        assertThat(cache.get("progD", "soon")).isPresent();
        Thread.sleep(2_100);
        assertThat(cache.get("progD", "soon")).isEmpty();
    }

    @Test
    void theKeyCountIsBoundedPerProgram() throws Exception {
        for (int i = 0; i < 5; i++) cache.put("progE", "k" + i, b("v"));
        cache.put("progE", "k0", b("overwrite is fine"));
        assertThatThrownBy(() -> cache.put("progE", "k5", b("v"))).isInstanceOf(ProgramCache.CacheFullException.class)
                .hasMessageContaining("5 keys");
        cache.put("progF", "k5", b("another program has its own count"));
    }

    @Test
    void aWrongUrlFailsClearly() {
        assertThatThrownBy(() -> RedisCache.open(URI.create("redis://127.0.0.1:" + redis.port + "/0"), CacheLimits.DEFAULTS))
                .hasMessageContaining("cannot use Redis at redis://127.0.0.1:" + redis.port).hasMessageContaining("--redis");
    }
}
