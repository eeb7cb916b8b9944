package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.testing.TestBuilds;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A build that fails or is interrupted names the step, shows the end of its log, and leaves
 * nothing behind: no image entry, no workspace, no mount, no process.
 */
class FailedBuildTest {

    @TempDir
    Path images;

    private RuntimeSpec spec(String body) {
        return RuntimeSpecs.parse("spec: 1\nbase: {suite: bookworm}\n" + body, "test spec", null);
    }

    @Test
    void aMissingPackageFailsInInstallPackagesWithAptsOwnMessage() throws Exception {
        RuntimeSpec spec = spec("name: broken\npackages: {apt: [python3-minimal, kiln-no-such-package]}\n");

        assertThatThrownBy(() -> new RuntimeBuilder(TestBuilds.kilnHome(), images, BuildListener.SILENT).build(spec))
                .isInstanceOfSatisfying(RuntimeBuildException.class, e -> {
                    assertThat(e.step()).isEqualTo("InstallPackages");
                    assertThat(e.logTail()).anyMatch(l -> l.contains("Unable to locate package kiln-no-such-package"));
                    assertThat(e.report()).startsWith("runtime build failed in step InstallPackages: apt could not install")
                            .contains("full log: " + e.log());
                });
        assertNothingLeftBehind();
        assertThat(Files.readString(images.resolve(Files.list(images).filter(p -> p.toString().endsWith(".log"))
                .findFirst().orElseThrow()))).contains("=== InstallPackages");
    }

    @Test
    void anImageWithoutPythonIsRefusedBeforeItCouldFailToBoot() {
        RuntimeSpec spec = spec("name: no-python\n");

        assertThatThrownBy(() -> new RuntimeBuilder(TestBuilds.kilnHome(), images, BuildListener.SILENT).build(spec))
                .isInstanceOfSatisfying(RuntimeBuildException.class, e -> {
                    assertThat(e.step()).isEqualTo("InstallInit");
                    assertThat(e.getMessage()).contains("no python3").contains("add python3-minimal");
                });
    }

    @Test
    void removingAPackageThatAKeptOneNeedsIsRefused() {
        RuntimeSpec spec = spec("name: over-slim\npackages: {apt: [python3-minimal]}\nslim: {remove_packages: [libc6]}\n");

        assertThatThrownBy(() -> new RuntimeBuilder(TestBuilds.kilnHome(), images, BuildListener.SILENT).build(spec))
                .isInstanceOfSatisfying(RuntimeBuildException.class, e -> {
                    assertThat(e.step()).isEqualTo("RemovePackages");
                    assertThat(e.getMessage()).contains("would break packages that stay").contains("needs libc6");
                });
    }

    @Test
    void anInterruptedBuildStopsItsProcessesAndRemovesItsWorkspace() throws Exception {
        RuntimeSpec spec = spec("name: interrupted\npackages: {apt: [python3-minimal, python3-six]}\n");
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread[] builder = new Thread[1];
        BuildListener interruptInInstall = progress -> {
            if (progress.step().equals("InstallPackages") && progress.stepFraction() == 0) {
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(700);
                    } catch (InterruptedException ignored) {
                        return;
                    }
                    builder[0].interrupt();
                });
            }
        };
        builder[0] = Thread.ofPlatform().start(() -> {
            try {
                new RuntimeBuilder(TestBuilds.kilnHome(), images, interruptInInstall).build(spec);
                outcome.set(new AssertionError("the build finished despite the interrupt"));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        builder[0].join(Duration.ofMinutes(3));

        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        assertNothingLeftBehind();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertThat(processesMentioning(images.toString())).as("processes still using the workspace").isEmpty());
    }

    private void assertNothingLeftBehind() throws IOException {
        try (Stream<Path> entries = Files.list(images)) {
            assertThat(entries.map(p -> p.getFileName().toString()))
                    .as("no entry and no workspace, only the log and the lock")
                    .allMatch(n -> n.endsWith(".log") || n.endsWith(".lock"));
        }
        assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo"))).noneMatch(l -> l.contains(images.toString()));
    }

    private static List<String> processesMentioning(String text) throws IOException {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .map(p -> {
                        try {
                            return new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                        } catch (IOException e) {
                            return "";
                        }
                    })
                    .filter(cmd -> cmd.contains(text)).toList();
        }
    }
}
