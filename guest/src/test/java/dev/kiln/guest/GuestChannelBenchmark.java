package dev.kiln.guest;

import dev.kiln.guest.bench.ClosedLoop;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Micro-benchmark (not a test): the trivial ASGI app of bench/guest through the guest channel
 * versus directly over localhost TCP, at a fixed concurrency, several alternating runs, medians.
 * Run with bench/guest/run.sh; results are recorded in docs/performance.md.
 */
public final class GuestChannelBenchmark {
    record Run(double rps, double p50Ms, double p99Ms) {
    }

    public static void main(String[] args) throws Exception {
        Path benchDir = Path.of(args[0]).toAbsolutePath();
        int concurrency = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int runs = Integer.parseInt(args[3]);
        Path tmp = Files.createTempDirectory("kiln-bench");
        int port = ConfigureErrorsTest.freePort();
        Process tcpServer = new ProcessBuilder("/usr/bin/python3", benchDir.resolve("asgi_tcp_server.py").toString(),
                Integer.toString(port)).inheritIO().start();
        try (AgentProcess agent = AgentProcess.start(tmp, Pythons.full(), Map.of());
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                     .executor(Executors.newVirtualThreadPerTaskExecutor()).build()) {
            agent.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                    ProgramConfig.Code.directory(ProgramConfig.Encoding.PLAIN, "bench_app:app", benchDir.toString())).build());
            waitForPort(port);
            HttpRequest tcpRequest = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello")).build();
            Supplier<Integer> viaChannel = () -> {
                GuestResponse r = agent.connection.request(GuestRequest.get("/hello"));
                r.readAllBytes();
                return r.status();
            };
            Supplier<Integer> viaTcp = () -> {
                try {
                    return http.send(tcpRequest, HttpResponse.BodyHandlers.ofByteArray()).statusCode();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            };
            System.out.printf("warm-up (2 s each)...%n");
            measure(viaChannel, concurrency, 2);
            measure(viaTcp, concurrency, 2);
            List<Run> channel = new ArrayList<>();
            List<Run> tcp = new ArrayList<>();
            for (int i = 1; i <= runs; i++) {
                Run c = measure(viaChannel, concurrency, seconds);
                Run t = measure(viaTcp, concurrency, seconds);
                channel.add(c);
                tcp.add(t);
                System.out.printf("run %d  channel %8.0f req/s p50 %6.2f ms p99 %6.2f ms | tcp %8.0f req/s p50 %6.2f ms p99 %6.2f ms%n",
                        i, c.rps(), c.p50Ms(), c.p99Ms(), t.rps(), t.rps() == 0 ? 0 : t.p50Ms(), t.p99Ms());
            }
            Run mc = median(channel);
            Run mt = median(tcp);
            System.out.printf("%nconcurrency %d, %d runs of %d s, medians:%n", concurrency, runs, seconds);
            System.out.printf("  guest channel : %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms%n", mc.rps(), mc.p50Ms(), mc.p99Ms());
            System.out.printf("  localhost TCP : %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms%n", mt.rps(), mt.p50Ms(), mt.p99Ms());
            System.out.printf("  channel / TCP : throughput x%.2f, p50 x%.2f, p99 x%.2f%n",
                    mc.rps() / mt.rps(), mc.p50Ms() / mt.p50Ms(), mc.p99Ms() / mt.p99Ms());
        } finally {
            tcpServer.destroy();
            try (var files = Files.walk(tmp)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static Run measure(Supplier<Integer> call, int concurrency, int seconds) throws Exception {
        ClosedLoop.Result r = ClosedLoop.run(call, concurrency, seconds);
        return new Run(r.rps(), r.p50Ms(), r.p99Ms());
    }

    private static Run median(List<Run> runs) {
        return new Run(med(runs.stream().mapToDouble(Run::rps).toArray()), med(runs.stream().mapToDouble(Run::p50Ms).toArray()),
                med(runs.stream().mapToDouble(Run::p99Ms).toArray()));
    }

    private static double med(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static void waitForPort(int port) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            try (Socket _ = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("the TCP baseline server did not start on port " + port);
    }
}
