package dev.kiln.vm.qemu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HostTscTest {

    @Test
    void readsTheDetectedFrequencyFromTheKernelLog() {
        String log = """
                [    0.000000] Linux version 6.1.0
                [    0.000265] tsc: Detected 2596.126 MHz processor
                [    0.073115] TSC deadline timer available
                """;

        assertThat(HostTsc.fromKernelLog(log)).hasValue(2_596_126);
    }

    @Test
    void theRefinedCalibrationWinsOverTheFirstEstimate() {
        String log = """
                [    0.000000] tsc: Fast TSC calibration using PIT
                [    0.000000] tsc: Detected 2893.202 MHz processor
                [    1.502311] tsc: Refined TSC clocksource calibration: 2893.236 MHz
                """;

        assertThat(HostTsc.fromKernelLog(log)).hasValue(2_893_236);
    }

    @Test
    void aLogWithoutTscLinesGivesNothing() {
        assertThat(HostTsc.fromKernelLog("[    0.0] Booting paravirtualized kernel\n")).isEmpty();
        assertThat(HostTsc.fromKernelLog("")).isEmpty();
    }

    @Test
    void readsTheFirstCpuFromCpuinfo() {
        String cpuinfo = """
                processor	: 0
                model name	: AMD EPYC 7B13
                cpu MHz		: 2096.010
                cache size	: 512 KB

                processor	: 1
                cpu MHz		: 1800.000
                """;

        assertThat(HostTsc.fromCpuinfo(cpuinfo)).hasValue(2_096_010);
    }

    @Test
    void detectsAPlausibleFrequencyOnThisHost() {
        HostTsc tsc = HostTsc.detect();

        assertThat(tsc.kHz()).isBetween(100_000L, 10_000_000L);
        assertThat(tsc.kernelArguments()).isEqualTo("tsc_early_khz=" + tsc.kHz() + " tsc=reliable");
    }
}
