package dev.kiln.guest.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A closed-loop load: a fixed number of workers, each sending its next request when the last one
 * answered, for a fixed time. The benchmarks of the guest channel and of the node both measure
 * with it, so their ratios compare like with like. Shipped to the node as guest's test jar.
 */
public final class ClosedLoop {

    /** What one run measured; latencies in milliseconds. */
    public record Result(int requests, double seconds, double p50Ms, double p99Ms) {
        public double rps() {
            return requests / seconds;
        }
    }

    private ClosedLoop() {
    }

    /** Runs {@code call} (which returns an HTTP status) for {@code seconds}; any status but 200 fails the run. */
    public static Result run(Supplier<Integer> call, int concurrency, int seconds) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        List<long[]> perWorker = new ArrayList<>();
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<long[]>> futures = new ArrayList<>();
            for (int w = 0; w < concurrency; w++) {
                futures.add(pool.submit(() -> {
                    long[] lat = new long[1 << 14];
                    int n = 0;
                    while (System.nanoTime() < end) {
                        long t0 = System.nanoTime();
                        if (call.get() != 200) errors.incrementAndGet();
                        if (n == lat.length) lat = Arrays.copyOf(lat, n * 2);
                        lat[n++] = System.nanoTime() - t0;
                    }
                    return Arrays.copyOf(lat, n);
                }));
            }
            for (var f : futures) perWorker.add(f.get());
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] all = perWorker.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        if (errors.get() > 0) throw new IllegalStateException(errors.get() + " requests failed");
        if (all.length == 0) throw new IllegalStateException("no request finished within " + seconds + " s");
        return new Result(all.length, elapsed, all[all.length / 2] / 1e6, all[(int) (all.length * 0.99)] / 1e6);
    }
}
