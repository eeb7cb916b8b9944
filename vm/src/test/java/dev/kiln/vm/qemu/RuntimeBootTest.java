package dev.kiln.vm.qemu;

import dev.kiln.builder.kernel.GuestKernel;
import dev.kiln.builder.kernel.KernelBuilder;
import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.runtime.RuntimeBuilder;
import dev.kiln.builder.runtime.RuntimeSpecs;
import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.guest.AgentHello;
import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.HaltResult;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every official runtime boots: its image, built by {@link RuntimeBuilder} (or taken from the
 * suite's cache), is the root of a QEMU microvm with Kiln's guest kernel, and init0 and init1 get
 * as far as the agent's HELLO on the virtio-serial channel. The agent is then halted and the VM
 * must power itself off.
 */
class RuntimeBootTest {

    /** A TCG boot takes ≈ 2 s; the 2 cores are shared with other builds and boots. */
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(120);

    private static GuestKernel kernel;

    @BeforeAll
    static void kernel() throws Exception {
        kernel = new KernelBuilder(TestBuilds.kilnHome(), BuildListener.SILENT).build();
    }

    static List<String> officialSpecs() {
        // Instance root filesystems boot systemd, not the agent: the node's InstanceNodeTest boots them.
        return RuntimeSpecs.officialNames(dev.kiln.builder.runtime.RuntimeSpec.FUNCTION);
    }

    @ParameterizedTest
    @MethodSource("officialSpecs")
    void theImageBootsToTheAgentsHelloAndPowersOffOnHalt(String name, @TempDir Path dir) throws Exception {
        BuiltRuntime runtime = TestBuilds.runtime(name);
        boolean fullPython = name.endsWith("-python");

        long start = System.nanoTime();
        try (GuestBoot vm = GuestBoot.start(kernel, runtime, dir)) {
            Path socket = vm.socket(Duration.ofSeconds(30));
            try (GuestConnection agent = GuestConnection.connect(socket,
                    GuestConnection.Options.defaults().withHelloTimeout(BOOT_TIMEOUT))) {
                AgentHello hello = agent.hello();
                // For docs/runtimes.md: how long a cold boot of each runtime takes here.
                System.err.printf(Locale.ROOT, "[boot] %s: HELLO %.2f s after QEMU started; guest clock: init0 %.2f s,"
                                + " init1 ready %.2f s%n", name, (System.nanoTime() - start) / 1e9,
                        hello.boot().init0Start(), hello.boot().init1Ready());

                assertThat(hello.runtimeName()).as(vm.describe()).isEqualTo(name);
                assertThat(hello.runtimeHash()).isEqualTo(runtime.imageHash().value());
                assertThat(hello.pid1()).as("init1 runs as PID 1, exec'd by init0").isTrue();
                assertThat(hello.system()).isTrue();
                assertThat(hello.can("asgi")).as("asyncio is there in full Python runtimes only").isEqualTo(fullPython);
                assertThat(hello.python()).startsWith(name.startsWith("debian-11") ? "3.9." : "3.11.");
                assertThat(hello.boot().init0Start()).isNotNull();

                HaltResult halted = agent.halt(Duration.ofSeconds(1), Duration.ofSeconds(30));
                assertThat(halted.ok()).isTrue();
            }
            assertThat(vm.exited(Duration.ofSeconds(60))).as("the guest powers off after HALT\n" + vm.describe()).isTrue();
            String console = vm.serialConsole();
            assertThat(console).contains("kiln-init0: t=").contains("overlay ready").doesNotContain("FATAL");
        }
    }
}
