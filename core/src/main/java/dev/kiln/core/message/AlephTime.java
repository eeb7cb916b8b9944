package dev.kiln.core.message;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;

/**
 * aleph times are Unix seconds as a JSON float ({@code 1619017773.8950517}). They are kept as
 * BigDecimal so they are written back with exactly the digits they came with: a double would
 * print as {@code 1.6190177738950517E9}.
 */
public final class AlephTime {
    private AlephTime() {}

    /** Seconds with microsecond precision, like Python's {@code time.time()}; always has a fraction. */
    public static BigDecimal of(Instant instant) {
        BigDecimal seconds = BigDecimal.valueOf(instant.getEpochSecond())
                .add(BigDecimal.valueOf(instant.getNano() / 1_000, 6))
                .stripTrailingZeros();
        return seconds.scale() < 1 ? seconds.setScale(1, RoundingMode.UNNECESSARY) : seconds;
    }

    public static Instant toInstant(BigDecimal seconds) {
        BigDecimal whole = seconds.setScale(0, RoundingMode.FLOOR);
        long nanos = seconds.subtract(whole).movePointRight(9).setScale(0, RoundingMode.HALF_UP).longValueExact();
        return Instant.ofEpochSecond(whole.longValueExact(), nanos);
    }
}
