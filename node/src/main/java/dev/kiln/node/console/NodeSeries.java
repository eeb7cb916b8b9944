package dev.kiln.node.console;

import dev.kiln.core.hash.ItemHash;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;

/**
 * The small in-memory time series behind the console's charts and "recent" tables: the last
 * {@value #KEPT} cold starts (with their phases) and the last {@value #KEPT} requests to programs.
 * Fed from what the node measures anyway (the pool's boot breakdown, each forwarded request's
 * time); a restart starts them afresh (the Prometheus endpoint is the long-term record).
 */
final class NodeSeries {
    static final int KEPT = 2000;

    /** One successful cold start: from the request's arrival to the program configured. */
    record ColdStart(Instant at, String vm, ItemHash program, double totalSeconds, double resolveSeconds,
                     double vmBootSeconds, double configureSeconds) {
    }

    /** One request to a program; {@code vm} null if no VM served it; {@code status} 0 means the response was cut short. */
    record Request(Instant at, ItemHash program, String vm, String method, String path, int status, double millis) {
        boolean failed() {
            return status == 0 || status >= 500;
        }
    }

    private final Ring<ColdStart> coldStarts = new Ring<>(KEPT, ColdStart::at);
    private final Ring<Request> requests = new Ring<>(KEPT, Request::at);

    void coldStart(ColdStart c) {
        coldStarts.add(c);
    }

    /** Called for every forwarded request: lock-free. */
    void request(Request r) {
        requests.add(r);
    }

    List<ColdStart> coldStarts() {
        return coldStarts.snapshot();
    }

    List<Request> requests() {
        return requests.snapshot();
    }

    long requestCount() {
        return requests.written();
    }

    /** The newest {@code limit} requests that pass {@code filter}, newest first. */
    List<Request> recent(Predicate<Request> filter, int limit) {
        return requests.snapshot().reversed().stream().filter(filter).limit(limit).toList();
    }

    List<ColdStart> coldStartsOf(ItemHash program) {
        return coldStarts.snapshot().stream().filter(c -> c.program().equals(program)).toList();
    }

    long requestsOf(ItemHash program) {
        return requests.snapshot().stream().filter(r -> r.program().equals(program)).count();
    }
}
