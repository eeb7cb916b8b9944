package dev.kiln.node;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.node.events.Delivery;
import dev.kiln.node.events.DeliveryOutcome;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.node.testing.TriggerPrograms;
import dev.kiln.vm.qemu.QemuLauncher;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The message trigger benchmark (not a test), on real QEMU with one subscribed program:
 * <ol>
 *   <li>delivery latency to an idle program (stopped before each message: the message boots it);</li>
 *   <li>delivery latency to a warm program, one message at a time;</li>
 *   <li>messages per second delivered to the warm program: a burst posted by several clients at
 *       once, from the first post to the last delivery.</li>
 * </ol>
 * Latency is the node's own record of each delivery: from the message's arrival (the POST read and
 * checked) to the handler's answer, which the handler sends on entry, so it bounds "posted → handler
 * entered" from above. Medians are printed. Run with bench/events/run.sh; results in
 * docs/performance.md, "Message triggers".
 */
public final class EventsBenchmark {
    public static void main(String[] args) throws Exception {
        int idleRuns = Integer.parseInt(args.length > 0 ? args[0] : "5");
        int warmRuns = Integer.parseInt(args.length > 1 ? args[1] : "30");
        int burst = Integer.parseInt(args.length > 2 ? args[2] : "300");
        int burstRuns = Integer.parseInt(args.length > 3 ? args[3] : "3");
        int posters = Integer.parseInt(args.length > 4 ? args[4] : "8");
        Path tmp = Files.createTempDirectory("kiln-events-bench");
        try (QemuLauncher launcher = QemuImages.launcher();
             TestNode node = TestNode.start(tmp.resolve("home"), launcher, QemuImages.runtime().image(), QemuImages.kernel(),
                     c -> c.withIdleTimeout(Duration.ofMinutes(30)))) {
            AlephMessage p = TriggerPrograms.program(node, "bench",
                    List.of(TriggerPrograms.filter("{\"channel\": \"BENCH\"}")), Map.of());
            check(TriggerPrograms.postToNode(node, p));
            ItemHash program = p.hash();
            System.out.printf(Locale.ROOT, "accelerator %s, program %s%n", node.node.accelerator().id(), program);

            List<Double> idle = new ArrayList<>();
            for (int i = 0; i < idleRuns; i++) {
                node.node.pool().stop(program, "benchmark: idle again");
                while (!node.node.pool().executions().isEmpty()) Thread.sleep(50);
                Delivery d = deliver(node, "idle " + i);
                idle.add(d.latency().toNanos() / 1e6);
                System.out.printf(Locale.ROOT, "idle %d: %.0f ms%n", i, idle.getLast());
            }
            List<Double> warm = new ArrayList<>();
            for (int i = 0; i < warmRuns; i++) warm.add(deliver(node, "warm " + i).latency().toNanos() / 1e6);
            System.out.printf(Locale.ROOT, "warm: %s ms%n", warm.stream().map(v -> String.format(Locale.ROOT, "%.1f", v)).toList());

            List<Double> rates = new ArrayList<>();
            try (ExecutorService clients = Executors.newFixedThreadPool(posters)) {
                for (int run = 0; run < burstRuns; run++) {
                    List<String> messages = new ArrayList<>();
                    java.util.Set<ItemHash> hashes = new java.util.HashSet<>();
                    for (int i = 0; i < burst; i++) {
                        messages.add(TriggerPrograms.post("BENCH", "bench", Map.of("run", run, "i", i)));
                        hashes.add(TriggerPrograms.hashOf(messages.getLast()));
                    }
                    long start = System.nanoTime();
                    List<Future<?>> posts = new ArrayList<>();
                    for (int c = 0; c < posters; c++) {
                        int first = c;
                        posts.add(clients.submit(() -> {
                            for (int i = first; i < messages.size(); i += posters) check(TriggerPrograms.postToNode(node, messages.get(i)));
                            return null;
                        }));
                    }
                    for (Future<?> f : posts) f.get();
                    long posted = System.nanoTime();
                    // One program's messages are delivered in order: once the burst's deliveries are all recorded, it is done.
                    while (node.node.triggers().recent(java.util.Optional.of(program), burst).stream()
                            .filter(d -> hashes.contains(d.message())).count() < burst) {
                        Thread.sleep(20);
                    }
                    double seconds = (System.nanoTime() - start) / 1e9;
                    long ok = node.node.triggers().recent(java.util.Optional.of(program), burst).stream()
                            .filter(d -> hashes.contains(d.message()) && d.outcome() == DeliveryOutcome.DELIVERED).count();
                    rates.add(burst / seconds);
                    System.out.printf(Locale.ROOT, "burst %d: %d messages (%d delivered) in %.2f s (posting took %.2f s): %.0f messages/s%n",
                            run, burst, ok, seconds, (posted - start) / 1e9, rates.getLast());
                }
            }
            System.out.printf(Locale.ROOT, "%nmedian delivery latency, idle program (boot included): %.0f ms (%d runs)%n",
                    median(idle), idleRuns);
            System.out.printf(Locale.ROOT, "median delivery latency, warm program: %.1f ms (%d messages)%n", median(warm), warmRuns);
            System.out.printf(Locale.ROOT, "median throughput to one warm program: %.0f messages/s (%d bursts of %d, %d posters)%n",
                    median(rates), burstRuns, burst, posters);
        }
    }

    private static Delivery deliver(TestNode node, String label) throws Exception {
        String m = TriggerPrograms.post("BENCH", "bench", Map.of("label", label));
        check(TriggerPrograms.postToNode(node, m));
        ItemHash hash = TriggerPrograms.hashOf(m);
        while (true) {
            List<Delivery> ds = node.node.triggers().deliveriesOf(hash);
            if (!ds.isEmpty()) {
                Delivery d = ds.getFirst();
                if (d.outcome() != DeliveryOutcome.DELIVERED) throw new IllegalStateException(label + ": " + d);
                return d;
            }
            Thread.sleep(2);
        }
    }

    private static void check(HttpResponse<String> r) {
        if (r.statusCode() != 202) throw new IllegalStateException("post answered " + r.statusCode() + ": " + r.body());
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
