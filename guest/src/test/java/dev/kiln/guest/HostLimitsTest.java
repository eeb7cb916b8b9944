package dev.kiln.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Limits the host keeps on its own side of a connection, against a fake agent. */
class HostLimitsTest {
    @TempDir
    Path dir;

    private static GuestConnection.Options options() {
        return GuestConnection.Options.defaults().withHelloTimeout(Duration.ofSeconds(5)).withCallTimeout(Duration.ofSeconds(5));
    }

    @Test
    void usedUpStreamIdsCloseTheConnectionWithADistinctReason() throws Exception {
        // Ids 1, 3 and 5 only.
        try (FakeAgent fake = FakeAgent.start(dir, ch -> GuestConnection.open(ch, options(), 5))) {
            GuestConnection c = fake.host;
            for (int i = 0; i < 3; i++) assertThat(c.request(GuestRequest.get("/")).status()).isEqualTo(200);
            assertThat(c.isOpen()).isTrue();

            assertThatThrownBy(() -> c.request(GuestRequest.get("/"))).isInstanceOf(GuestChannelExhaustedException.class)
                    .hasMessageContaining("last stream id");
            assertThat(c.isOpen()).as("a connection out of ids is no longer usable").isFalse();
            assertThat(c.closed().get(5, TimeUnit.SECONDS)).isInstanceOf(GuestChannelExhaustedException.class);
            assertThatThrownBy(() -> c.request(GuestRequest.get("/"))).isInstanceOf(GuestChannelExhaustedException.class);
        }
    }

    @Test
    void tooManyHeadersIsRefusedForThatRequestOnly() throws Exception {
        try (FakeAgent fake = FakeAgent.start(dir, ch -> GuestConnection.open(ch, options()))) {
            GuestRequest crowded = GuestRequest.get("/");
            for (int i = 0; i < 300; i++) crowded = crowded.withHeader("x-h" + i, "v");
            GuestRequest request = crowded;
            assertThatThrownBy(() -> fake.host.request(request)).isInstanceOf(GuestRequestRefusedException.class)
                    .satisfies(e -> assertThat(((GuestStreamException) e).errorCode()).isEqualTo(GuestErrorCode.TOO_MANY_HEADERS));
            assertThat(fake.host.request(GuestRequest.get("/")).status()).isEqualTo(200);
        }
    }

    @Test
    void bodiesUploadingAtOnceAreBoundedAndRequestsWithoutBodyStillPass() throws Exception {
        // The fake allows 8 streams: 4 may carry a body still uploading.
        try (FakeAgent fake = FakeAgent.start(dir, ch -> GuestConnection.open(ch, options()))) {
            List<StalledBody> bodies = new ArrayList<>();
            List<CompletableFuture<GuestResponse>> pending = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                StalledBody b = new StalledBody();
                bodies.add(b);
                pending.add(fake.host.requestAsync(GuestRequest.post("/", new byte[0]).withBody(b)));
            }
            assertThatThrownBy(() -> fake.host.requestAsync(GuestRequest.post("/", new byte[0]).withBody(new StalledBody())))
                    .isInstanceOf(GuestRequestRefusedException.class)
                    .satisfies(e -> assertThat(((GuestStreamException) e).errorCode()).isEqualTo(GuestErrorCode.TOO_MANY_UPLOADS));
            assertThat(fake.host.request(GuestRequest.get("/")).status()).isEqualTo(200);

            // One body breaks: its request fails as such, and its upload slot is free again.
            bodies.getFirst().fail();
            assertThatThrownBy(() -> pending.getFirst().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(GuestRequestBodyException.class);
            StalledBody next = new StalledBody();
            bodies.add(next);
            // The upload thread frees its slot as it ends, just after the request failed.
            CompletableFuture<GuestResponse> accepted = await().atMost(5, TimeUnit.SECONDS)
                    .ignoreExceptionsInstanceOf(GuestRequestRefusedException.class)
                    .until(() -> fake.host.requestAsync(GuestRequest.post("/", new byte[0]).withBody(next)), f -> true);
            assertThat(accepted.isDone()).as("the fake never answers a request with a body").isFalse();
            bodies.forEach(StalledBody::fail);
        }
    }

    @Test
    void aStalledBodyGivesItsSlotBackWhenItsRequestTimesOut() throws Exception {
        try (FakeAgent fake = FakeAgent.start(dir, ch -> GuestConnection.open(ch, options()))) {
            List<StalledBody> bodies = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                StalledBody b = new StalledBody();
                bodies.add(b);
                GuestRequest r = GuestRequest.post("/", new byte[0]).withBody(b).withTimeout(Duration.ofMillis(300));
                assertThatThrownBy(() -> fake.host.request(r)).isInstanceOf(GuestTimeoutException.class);
            }
            // The four clients still hold their connections, but no longer any stream.
            StalledBody next = new StalledBody();
            bodies.add(next);
            CompletableFuture<GuestResponse> accepted = await().atMost(5, TimeUnit.SECONDS)
                    .ignoreExceptionsInstanceOf(GuestRequestRefusedException.class)
                    .until(() -> fake.host.requestAsync(GuestRequest.post("/", new byte[0]).withBody(next)), f -> true);
            assertThat(accepted.isDone()).isFalse();
            bodies.forEach(StalledBody::fail);
        }
    }

    /** A body whose client stalls after a few bytes, then breaks off when told to. */
    static final class StalledBody extends InputStream {
        private final CountDownLatch broken = new CountDownLatch(1);
        private boolean sent;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0];
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (!sent) {
                sent = true;
                b[off] = 'x';
                return 1;
            }
            try {
                broken.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("the client closed the connection mid-body");
        }

        void fail() {
            broken.countDown();
        }
    }
}
