package dev.kiln.node.guestapi;

/** A token bucket for one VM: {@code perSecond} sustained, twice that in a burst. Its own lock only. */
final class RateLimit {
    private final double perNano;
    private final double burst;
    private double tokens;
    private long last;

    RateLimit(int perSecond) {
        this.perNano = perSecond / 1e9;
        this.burst = perSecond * 2.0;
        this.tokens = burst;
        this.last = System.nanoTime();
    }

    synchronized boolean tryTake() {
        long now = System.nanoTime();
        tokens = Math.min(burst, tokens + (now - last) * perNano);
        last = now;
        if (tokens < 1) return false;
        tokens -= 1;
        return true;
    }
}
