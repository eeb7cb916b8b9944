package dev.kiln.cli;

import dev.kiln.builder.kernel.GuestKernel;
import dev.kiln.builder.kernel.KernelBuildException;
import dev.kiln.builder.kernel.KernelBuilder;
import dev.kiln.builder.step.BuildListener;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "kernel", mixinStandardHelpOptions = true, description = "Build Kiln's guest kernel (docs/kernel.md).",
        subcommands = {KernelCommand.Build.class, KernelCommand.Config.class})
final class KernelCommand {

    @Command(name = "build", mixinStandardHelpOptions = true, description = {
            "Build the guest kernel, or reuse the cached build (a second call is instant).",
            "Builds from Debian's linux-source-6.1 with Kiln's config fragment (≈ 7 min on 2 cores);"
                    + " prints the vmlinux path and its SHA-256."})
    static final class Build implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Option(names = "--quiet", description = "No progress bar.") boolean quiet;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            GuestKernel kernel;
            try (RuntimeBuild.StepBar bar = quiet ? null : new RuntimeBuild.StepBar("kernel")) {
                KernelBuilder builder = new KernelBuilder(kiln.home().root(), bar == null ? BuildListener.SILENT : bar);
                kernel = RuntimeBuild.Interruptible.run(builder::build, spec.commandLine().getErr());
            } catch (KernelBuildException e) {
                spec.commandLine().getErr().println("kiln: " + e.report());
                return Main.USER_ERROR;
            } catch (InterruptedException e) {
                return Main.USER_ERROR;
            }
            out.println("guest kernel " + kernel.kernelRelease() + " (linux-source-6.1 " + kernel.sourceVersion() + "): "
                    + (kernel.fromCache() ? "cached build, verified" : "built") + ", " + Bytes.human(kernel.sizeBytes()));
            out.println("  vmlinux: " + kernel.vmlinux());
            out.println("  sha256:  " + kernel.sha256());
            out.println("  config:  " + kernel.config());
            RuntimeBuild.printSteps(out, kernel.steps(), kernel.fromCache() ? "the build that made it" : "steps");
            return Main.OK;
        }
    }

    @Command(name = "config", mixinStandardHelpOptions = true, description = "Print the config fragment Kiln applies on top of tinyconfig.")
    static final class Config implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;

        @Override
        public Integer call() throws Exception {
            spec.commandLine().getOut().print(new KernelBuilder(kiln.home().root(), BuildListener.SILENT).configFragment());
            return Main.OK;
        }
    }
}
