package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.StepProgress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Produces the final {@code .config}: {@code make tinyconfig}, the kernel's kvm_guest.config and
 * Kiln's fragment merged on top, {@code make olddefconfig} to resolve dependencies, then a check
 * that every option of the fragment survived. Kconfig drops an option whose dependencies are off
 * with no error at all; without the check, the guest would lack a driver and fail only at boot.
 */
final class ConfigureKernelStep implements BuildStep {

    private final BuildWorkspace workspace;
    private final BuildLog log;
    private final KernelRecipe recipe;

    ConfigureKernelStep(BuildWorkspace workspace, BuildLog log, KernelRecipe recipe) {
        this.workspace = workspace;
        this.log = log;
        this.recipe = recipe;
    }

    @Override
    public String name() {
        return "ConfigureKernel";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofSeconds(15);
    }

    @Override
    public void run(StepProgress progress) throws IOException, InterruptedException {
        Path tree = workspace.sourceTree();
        Path kvmGuest = tree.resolve(KernelRecipe.KVM_GUEST_FRAGMENT);
        if (!Files.isRegularFile(kvmGuest)) {
            throw new IOException("the kernel source has no " + KernelRecipe.KVM_GUEST_FRAGMENT);
        }
        Files.writeString(workspace.fragment(), recipe.fragmentText());

        progress.report(0, "make tinyconfig");
        log.run(ExternalCommand.of(tree, "make", "ARCH=x86_64", "tinyconfig"));
        progress.report(0.4, "merge kvm_guest.config + " + KernelRecipe.FRAGMENT_FILE_NAME);
        // -m: only merge; olddefconfig below resolves the merged file once.
        log.run(ExternalCommand.of(tree, "sh", "scripts/kconfig/merge_config.sh", "-m", ".config",
                KernelRecipe.KVM_GUEST_FRAGMENT, workspace.fragment().toString()));
        progress.report(0.6, "make olddefconfig");
        log.run(ExternalCommand.of(tree, "make", "ARCH=x86_64", "olddefconfig"));

        progress.report(0.9, "verify options");
        KernelConfig result = KernelConfig.parse(Files.readString(tree.resolve(".config")));
        List<DroppedOption> dropped = recipe.droppedIn(result);
        if (!dropped.isEmpty()) {
            dropped.forEach(d -> log.line("dropped: " + d));
            throw new IOException(dropped.size() + " option(s) of " + KernelRecipe.FRAGMENT_FILE_NAME
                    + " did not survive `make olddefconfig`, so a dependency is missing or another option"
                    + " overrides them (look each one up with `make menuconfig` → `/`):\n  "
                    + dropped.stream().map(DroppedOption::toString).collect(Collectors.joining("\n  ")));
        }
        log.line("all " + recipe.required().values().size() + " options of the fragment are in the final config");
    }
}
