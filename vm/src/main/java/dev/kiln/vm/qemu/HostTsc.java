package dev.kiln.vm.qemu;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The host's TSC frequency, which a guest under TCG must be told: without
 * {@code tsc_early_khz=<kHz> tsc=reliable} on its command line, 30–50 % of boots hang at
 * "Unable to calibrate against PIT" (the emulated PIT is too irregular to calibrate against).
 *
 * <p>Sources, best first:
 * <ol>
 *   <li>{@code KILN_TSC_KHZ}, for hosts where detection is wrong;</li>
 *   <li>the host kernel's log ("tsc: Refined TSC clocksource calibration: … MHz", else "tsc:
 *       Detected … MHz processor"): the TSC's own rate, measured at boot;</li>
 *   <li>{@code /proc/cpuinfo}'s "cpu MHz": equal to the TSC rate on virtual machines and on CPUs
 *       without frequency scaling, but the current core clock on hosts that scale it — close
 *       enough for early boot, after which the guest recalibrates.</li>
 * </ol>
 * The kernel log may be unreadable (dmesg_restrict) or have rotated away on a long-running host,
 * hence the fallback.
 *
 * @param kHz    the TSC frequency in kHz
 * @param source where the value came from, for logs
 */
public record HostTsc(long kHz, String source) {

    public static final String OVERRIDE_ENV = "KILN_TSC_KHZ";

    private static final Pattern REFINED = Pattern.compile("tsc: Refined TSC clocksource calibration: ([0-9.]+) MHz");
    private static final Pattern DETECTED = Pattern.compile("tsc: Detected ([0-9.]+) MHz processor");
    private static final Pattern CPUINFO = Pattern.compile("(?m)^cpu MHz\\s*:\\s*([0-9.]+)\\s*$");

    public HostTsc {
        if (kHz <= 0) throw new IllegalArgumentException("TSC frequency must be positive: " + kHz);
    }

    /** Detects the host's TSC frequency; fails only if no source gives one. */
    public static HostTsc detect() {
        String override = System.getenv(OVERRIDE_ENV);
        if (override != null && !override.isBlank()) {
            try {
                return new HostTsc(Long.parseLong(override.strip()), OVERRIDE_ENV);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(OVERRIDE_ENV + " must be the TSC frequency in kHz, e.g. 2596126; got " + override);
            }
        }
        OptionalLong fromLog = fromKernelLog(readKernelLog());
        if (fromLog.isPresent()) return new HostTsc(fromLog.getAsLong(), "kernel log");
        OptionalLong fromCpuinfo = fromCpuinfo(read(Path.of("/proc/cpuinfo")));
        if (fromCpuinfo.isPresent()) return new HostTsc(fromCpuinfo.getAsLong(), "/proc/cpuinfo");
        throw new IllegalStateException("cannot find the host's TSC frequency in the kernel log or /proc/cpuinfo;"
                + " set " + OVERRIDE_ENV + " to it in kHz");
    }

    /** The kernel command-line arguments that let a TCG guest skip PIT calibration. */
    public String kernelArguments() {
        return "tsc_early_khz=" + kHz + " tsc=reliable";
    }

    /** The TSC rate from kernel log text; the refined calibration wins over the first estimate. */
    static OptionalLong fromKernelLog(String log) {
        OptionalLong refined = lastMHz(REFINED, log);
        return refined.isPresent() ? refined : lastMHz(DETECTED, log);
    }

    /** The first CPU's "cpu MHz" from /proc/cpuinfo text. */
    static OptionalLong fromCpuinfo(String cpuinfo) {
        Matcher m = CPUINFO.matcher(cpuinfo);
        return m.find() ? OptionalLong.of(toKHz(m.group(1))) : OptionalLong.empty();
    }

    private static OptionalLong lastMHz(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        String last = null;
        while (m.find()) last = m.group(1);
        return last == null ? OptionalLong.empty() : OptionalLong.of(toKHz(last));
    }

    /** "2596.126" MHz → 2596126 kHz, without the rounding errors of a double. */
    private static long toKHz(String mhz) {
        return new BigDecimal(mhz).movePointRight(3).setScale(0, RoundingMode.HALF_UP).longValueExact();
    }

    /** dmesg's output, or "" when it cannot be read in time (dmesg_restrict, no dmesg). */
    private static String readKernelLog() {
        Process dmesg = null;
        try {
            dmesg = new ProcessBuilder("dmesg").redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.DISCARD.file())
                    .start();
            FutureTask<byte[]> out = new FutureTask<>(dmesg.getInputStream()::readAllBytes);
            Thread.ofVirtual().start(out);
            if (!dmesg.waitFor(5, TimeUnit.SECONDS) || dmesg.exitValue() != 0) return "";
            return new String(out.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        } catch (IOException | ExecutionException | TimeoutException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        } finally {
            if (dmesg != null) dmesg.destroyForcibly();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d kHz (from %s)", kHz, source);
    }
}
