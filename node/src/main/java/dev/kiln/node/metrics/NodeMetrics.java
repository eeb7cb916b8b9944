package dev.kiln.node.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The node's meters, scraped at {@code /metrics} in the Prometheus text format: cold starts and
 * their boot durations, request latencies by outcome, VMs by state. Meters are looked up once
 * per tag value and cached, so recording costs a map lookup and an atomic add.
 */
public final class NodeMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, Counter> coldStarts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Timer> requests = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> ended = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> bootFailures = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Timer> startTimers = new ConcurrentHashMap<>();

    public NodeMetrics() {
        startTimer("boot");
    }

    /** A cold start ended: {@code outcome} is {@code ok} or an error code. */
    public void coldStart(String outcome, Duration took) {
        coldStart("boot", outcome, took);
    }

    /**
     * A cold start ended, by kind ({@code boot}, or {@code restore} from a snapshot) and outcome;
     * durations of successful ones go to the boot timer, tagged with the kind.
     */
    public void coldStart(String kind, String outcome, Duration took) {
        coldStarts.computeIfAbsent(kind + "/" + outcome, k -> Counter.builder("kiln.node.cold.starts")
                .description("Cold starts for a request, by kind (boot/restore) and outcome").tag("start", kind)
                .tag("outcome", outcome).register(registry)).increment();
        if (outcome.equals("ok")) startTimer(kind).record(took);
    }

    private Timer startTimer(String kind) {
        return startTimers.computeIfAbsent(kind, k -> Timer.builder("kiln.node.boot.duration")
                .description("From the cold start to the program ready, by kind (boot/restore)").tag("start", k)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(50)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry));
    }

    /** An execution stopped taking requests: {@code reason} is its end reason's label ({@code idle}, {@code vm_died}, …). */
    public void executionEnded(String reason) {
        ended.computeIfAbsent(reason, r -> Counter.builder("kiln.node.executions.ended")
                .description("Executions retired, by end reason").tag("reason", r).register(registry))
                .increment();
    }

    /** A VM did not boot: {@code reason} is the driver's typed boot failure ({@code timeout}, {@code vmm_exited}, …). */
    public void bootFailure(String reason) {
        bootFailures.computeIfAbsent(reason, r -> Counter.builder("kiln.node.boot.failures")
                .description("VM launches that failed, by the driver's reason").tag("reason", r).register(registry))
                .increment();
    }

    /** A request to a program was answered (head sent) or failed: {@code outcome} = status class or error code. */
    public void request(String outcome, long nanos) {
        requests.computeIfAbsent(outcome, o -> Timer.builder("kiln.node.request.duration")
                .description("Requests to programs, from arrival to the end of the response, by outcome")
                .tag("outcome", o)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(Duration.ofSeconds(120))
                .register(registry))
                .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** Registers the gauge of VMs in one state, read from the pool at each scrape. */
    public void vmsInState(String state, Supplier<Number> count) {
        Gauge.builder("kiln.node.vms", count).description("VMs by state")
                .tag("state", state.toLowerCase(Locale.ROOT)).register(registry);
    }

    public void memoryGauges(Supplier<Number> reservedMiB, Supplier<Number> budgetMiB) {
        Gauge.builder("kiln.node.memory.reserved", reservedMiB).baseUnit("mebibytes")
                .description("Memory reserved by running VMs (guest RAM + VMM overhead)").register(registry);
        Gauge.builder("kiln.node.memory.budget", budgetMiB).baseUnit("mebibytes")
                .description("The host memory budget for VMs").register(registry);
    }

    /** The Prometheus exposition text. */
    public String scrape() {
        return registry.scrape();
    }
}
